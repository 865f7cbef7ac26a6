package app

import (
	"flag"

	"github.com/termux-webui/webui/internal/config"
)

// settingsFlags are a command's settings flags: every config key, and
// --config. They are how each command turns its flags, the environment and
// the config file into a Config, and a bad setting into exit code 2.
type settingsFlags struct {
	fs                   *flag.FlagSet
	resolve, withoutFile func() (*config.Config, error)
}

// withSettings registers the settings flags on fs, after the command's own.
func withSettings(env Env, fs *flag.FlagSet) *settingsFlags {
	s := &settingsFlags{fs: fs}
	s.resolve, s.withoutFile = env.loader().FlagSets(fs)
	return s
}

// load parses args, then resolves the Config (see config).
func (s *settingsFlags) load(args []string) (*config.Config, error) {
	if err := parse(s.fs, args); err != nil {
		return nil, err
	}
	return s.config()
}

// config resolves the Config once args are parsed: a bad setting is a
// usage error.
func (s *settingsFlags) config() (*config.Config, error) {
	cfg, err := s.resolve()
	if err != nil {
		return nil, configError(err)
	}
	return cfg, nil
}

// lenient is config for the commands that must work while the config file
// is broken (diagnose, doctor): the Config then comes from the flags, the
// environment and the defaults, and fileErr says what is wrong with the
// file.
func (s *settingsFlags) lenient() (cfg *config.Config, fileErr, err error) {
	cfg, fileErr = s.resolve()
	if fileErr == nil {
		return cfg, nil, nil
	}
	if cfg, err = s.withoutFile(); err != nil {
		return nil, fileErr, configError(err)
	}
	return cfg, fileErr, nil
}

// startable checks cfg for a command that starts the server: a password
// hash that others may read moves to the state dir first, then the rules
// that span settings (config.Check) must hold.
func startable(env Env, cfg *config.Config) error {
	moveExposedHash(env, cfg)
	return configError(cfg.Check())
}

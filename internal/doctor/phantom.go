package doctor

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// Android SDK levels the phantom check tells apart.
const (
	sdkAndroid12  = 31
	sdkAndroid12L = 32
	sdkAndroid14  = 34
)

const (
	fixPhantomSetting = "`adb shell settings put global settings_enable_monitor_phantom_procs false` (from a computer, or with root)"
	fixPhantom12      = "`adb shell \"/system/bin/device_config set_sync_disabled_for_tests persistent; /system/bin/device_config put activity_manager max_phantom_processes 2147483647\"`"
	fixPhantom14      = "or, on Android 14+, Developer options > \"Disable child process restrictions\""
)

type phantomInput struct {
	Android bool
	SDK     string // getprop ro.build.version.sdk ("" unknown)
	SDKErr  error
	// Setting is `settings get global settings_enable_monitor_phantom_procs`.
	Setting    string
	SettingErr error
}

func checkPhantom(ctx context.Context, p *Probes) Check {
	in := phantomInput{Android: p.Platform.Android.Value}
	if in.Android {
		in.SDK, in.SDKErr = p.Command(ctx, "getprop", "ro.build.version.sdk")
		if sdk, err := strconv.Atoi(in.SDK); err == nil && sdk >= sdkAndroid12L {
			in.Setting, in.SettingErr = p.Command(ctx, "settings", "get", "global", "settings_enable_monitor_phantom_procs")
		}
	}
	return decidePhantom(in)
}

func decidePhantom(in phantomInput) Check {
	c := Check{ID: "phantom", Status: OK}
	if !in.Android {
		c.Summary = NotApplicable + " (not Android: no phantom process killer)"
		return c
	}
	sdk, err := strconv.Atoi(strings.TrimSpace(in.SDK))
	if in.SDKErr != nil || err != nil {
		c.Status = Warn
		c.Summary = "cannot tell the Android version (getprop ro.build.version.sdk: " + errOr(in.SDKErr, strconv.Quote(in.SDK)) +
			"); on Android 12+ the phantom process killer SIGKILLs busy background processes"
		c.Fix = "on Android 12L+: " + fixPhantomSetting + "; " + fixPhantom14
		return c
	}
	c.Value = sdk
	switch {
	case sdk < sdkAndroid12:
		c.Summary = fmt.Sprintf("Android SDK %d predates the phantom process killer (Android 12)", sdk)
		return c
	case sdk == sdkAndroid12:
		c.Status = Warn
		c.Summary = "Android 12 (SDK 31): the phantom process killer SIGKILLs processes past 32 and busy background ones (\"[Process completed (signal 9)]\")"
		c.Fix = fixPhantom12
		return c
	}
	setting := strings.TrimSpace(in.Setting)
	if in.SettingErr == nil && setting == "false" {
		c.Summary = fmt.Sprintf("Android SDK %d: the phantom process killer is off (settings_enable_monitor_phantom_procs = false)", sdk)
		return c
	}
	c.Status = Warn
	state := "is on"
	if in.SettingErr != nil {
		state = "may be on (the setting cannot be read here: " + in.SettingErr.Error() + ")"
	} else if setting != "true" && setting != "null" && setting != "" {
		state = "may be on (settings_enable_monitor_phantom_procs = " + strconv.Quote(setting) + ")"
	}
	c.Summary = fmt.Sprintf("Android SDK %d: the phantom process killer %s; it SIGKILLs processes past 32 and busy background ones (\"[Process completed (signal 9)]\")", sdk, state)
	c.Fix = fixPhantomSetting
	if sdk >= sdkAndroid14 {
		c.Fix += "; " + fixPhantom14
	}
	return c
}

func errOr(err error, s string) string {
	if err != nil {
		return err.Error()
	}
	return s
}

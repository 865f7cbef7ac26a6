// Package update is webui's self-update: the signed release feed, checks
// for a newer version, and applying one so that a failed update leaves the
// old version running.
//
// The feed is a manifest.json (Manifest) next to manifest.json.sig, the
// base64 ed25519 signature of the manifest's exact bytes. A manifest is
// trusted only when one of the trusted keys (BuiltinKeys plus update_keys)
// signed it; every artifact it lists carries its size and sha256.
//
// Applying an update (Service.Apply, or `webui update apply`) goes:
//
//  1. download the artifact into <state_dir>/updates/staging, capped at
//     the size the manifest states;
//  2. verify its sha256 (the manifest's signature was verified before the
//     download began): nothing outside staging changes before this;
//  3. install: `dpkg -i` when dpkg owns the running binary and its
//     database is writable, else an atomic swap of the binary (temp file in
//     the same directory, fsync, the current binary kept as <binary>.prev by
//     a hard link, rename over, fsync of the directory);
//  4. write <state_dir>/updates/pending.json and spawn the detached
//     `webui update confirm` helper from the .prev binary (old, known-good
//     code), then restart through the restart engine;
//  5. the helper waits for /health to report the new version; if it does
//     not within the bound, it restores .prev, stops the unhealthy server
//     and starts the old version the way `webui ctl start` does;
//  6. the outcome goes to <state_dir>/updates/status.json and to the
//     lifetime records ("update" events) for `webui diagnose`.
//
// A lock file (<state_dir>/updates/apply.lock, flock) makes one apply run at
// a time, across processes: the helper inherits it and holds it until the
// update is confirmed or rolled back.
package update

package doctor

import (
	"context"
	"errors"
	"fmt"
)

type dirState struct {
	Name, Path string
	Err        error
}

type storageInput struct {
	StateDir  string
	FreeBytes int64
	FreeErr   error
	MinFreeMB int64
	Dirs      []dirState
}

func checkStorage(_ context.Context, p *Probes) Check {
	in := storageInput{StateDir: p.Config.StateDir, MinFreeMB: p.Config.MinFreeMB}
	in.FreeBytes, in.FreeErr = p.FreeBytes(p.Config.StateDir)
	for _, d := range []dirState{{Name: "state", Path: p.Config.StateDir}, {Name: "log", Path: p.Config.LogDir}} {
		d.Err = p.Writable(d.Path)
		in.Dirs = append(in.Dirs, d)
	}
	return decideStorage(in)
}

func decideStorage(in storageInput) Check {
	c := Check{ID: "storage", Status: OK}
	for _, d := range in.Dirs {
		if d.Err != nil && !errors.Is(d.Err, errMissing) {
			c.Status = Fail
			c.Summary = fmt.Sprintf("the %s dir %s is not writable: %v", d.Name, d.Path, d.Err)
			c.Fix = fmt.Sprintf("fix its owner or mode, or choose another with --%s-dir", d.Name)
			return c
		}
	}
	if in.FreeErr != nil {
		c.Status, c.Summary, c.Fix = Warn, "cannot tell the free space: "+in.FreeErr.Error(), ""
		return c
	}
	mb := in.FreeBytes >> 20
	c.Value = mb
	if mb < in.MinFreeMB {
		c.Status = Fail
		c.Summary = fmt.Sprintf("%d MiB free where %s lives, below min_free_mb (%d): /health?deep=1 reports degraded and logs may fail", mb, in.StateDir, in.MinFreeMB)
		c.Fix = "free some space on the device (or lower min_free_mb)"
		return c
	}
	c.Summary = fmt.Sprintf("%d MiB free (min_free_mb %d); state and log dirs writable", mb, in.MinFreeMB)
	return c
}

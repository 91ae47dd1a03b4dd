package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/astro/fits"
	"github.com/zmosaic/zmosaic/astro/wcs"
)

// infoKeys are the header cards `info` shows when present.
var infoKeys = []string{"OBJECT", "DATE-OBS", "EXPTIME", "TELESCOP", "INSTRUME", "FILTER", "BAYERPAT", "BZERO", "BSCALE", "NCOMBINE", "RADESYS", "EQUINOX"}

// fileInfo is one file in `zmosaic info --json`. Pixel coordinates are 0-based pixel centres;
// sky coordinates are degrees in the file's own frame.
type fileInfo struct {
	File     string         `json:"file"`
	HDU      int            `json:"hdu"`
	Width    int            `json:"width"`
	Height   int            `json:"height"`
	Channels int            `json:"channels"`
	Bitpix   int            `json:"bitpix"`
	Keys     map[string]any `json:"keys,omitempty"`
	WCS      *wcsInfo       `json:"wcs"`
	Center   *[2]float64    `json:"center,omitempty"`
	Corners  [][2]float64   `json:"corners,omitempty"` // (0,0), (W−1,0), (W−1,H−1), (0,H−1)
	Warnings []string       `json:"warnings,omitempty"`
	Error    string         `json:"error,omitempty"`
}

type wcsInfo struct {
	CType       [2]string  `json:"ctype"`
	Projection  string     `json:"projection"`
	CRVal       [2]float64 `json:"crval"`
	CRPix       [2]float64 `json:"crpix"`
	SIPOrder    int        `json:"sip_order"`
	ScaleArcsec float64    `json:"scale_arcsec"` // geometric mean of the x and y scales at the centre
	ScaleXY     [2]float64 `json:"scale_xy_arcsec"`
	Rotation    float64    `json:"rotation_deg"`
	RADESys     string     `json:"radesys,omitempty"`
	Equinox     float64    `json:"equinox,omitempty"`
	Problems    string     `json:"problems,omitempty"` // what Validate found, if anything
}

func infoCommand(a *app, fs *pflag.FlagSet) func([]string) int {
	asJSON := fs.Bool("json", false, a.t("flag_json", nil))
	hdu := fs.String("hdu", "", a.t("flag_hdu", nil))
	return func(args []string) int {
		if len(args) == 0 {
			a.errorf("usage_info_needs", nil)
			return exitUsage
		}
		var infos []fileInfo
		failed := false
		for _, name := range args {
			fi := describe(name, *hdu)
			if fi.Error != "" {
				failed = true
				if !*asJSON {
					a.errorf("read_failed", map[string]any{"file": name, "error": fi.Error})
				}
			}
			infos = append(infos, fi)
		}
		if *asJSON {
			enc := json.NewEncoder(a.stdout)
			enc.SetIndent("", "  ")
			if err := enc.Encode(infos); err != nil {
				return exitFailure
			}
		} else {
			for _, fi := range infos {
				if fi.Error == "" {
					a.printInfo(a.stdout, fi)
				}
			}
		}
		if failed {
			return exitFailure
		}
		return exitOK
	}
}

func describe(name, sel string) fileInfo {
	fi := fileInfo{File: name}
	f, err := fits.Open(name)
	if err != nil {
		fi.Error = err.Error()
		return fi
	}
	defer f.Close()
	h, err := f.Image(sel)
	if err != nil {
		fi.Error = err.Error()
		return fi
	}
	fi.HDU, fi.Width, fi.Height, fi.Channels, fi.Bitpix = h.Index, h.Width, h.Height, h.Channels, h.Bitpix
	fi.Warnings = f.Warnings
	fi.Keys = map[string]any{}
	for _, k := range infoKeys {
		if c, ok := h.Header.Get(k); ok {
			fi.Keys[k] = c.Value
		}
	}
	w, err := wcs.FromHeader(h.Header)
	if err != nil {
		if !errors.Is(err, wcs.ErrNoCelestialAxes) {
			fi.Warnings = append(fi.Warnings, err.Error())
		}
		return fi
	}
	wi := &wcsInfo{CType: w.CType, Projection: w.Projection, CRVal: w.CRVal, CRPix: w.CRPix,
		RADESys: w.RADESys, Equinox: w.Equinox, Rotation: w.Rotation()}
	if w.SIP != nil {
		wi.SIPOrder = w.SIP.Order
	}
	cx, cy := float64(fi.Width-1)/2, float64(fi.Height-1)/2
	sx, sy := w.PixelScale(cx, cy)
	wi.ScaleXY = [2]float64{sx, sy}
	wi.ScaleArcsec = sqrt(sx * sy)
	if err := w.Validate(fi.Width, fi.Height, wcs.DefaultValidateOptions()); err != nil {
		wi.Problems = err.Error()
	}
	fi.WCS = wi
	if ra, dec, err := w.PixelToWorld(cx, cy); err == nil {
		fi.Center = &[2]float64{ra, dec}
	}
	W, H := float64(fi.Width-1), float64(fi.Height-1)
	for _, p := range [][2]float64{{0, 0}, {W, 0}, {W, H}, {0, H}} {
		ra, dec, err := w.PixelToWorld(p[0], p[1])
		if err != nil {
			fi.Warnings = append(fi.Warnings, fmt.Sprintf("corner (%g,%g): %v", p[0], p[1], err))
			continue
		}
		fi.Corners = append(fi.Corners, [2]float64{ra, dec})
	}
	return fi
}

func (a *app) printInfo(w io.Writer, fi fileInfo) {
	fmt.Fprintf(w, "%s\n", fi.File)
	fmt.Fprintf(w, "  %s\n", a.t("info_shape", map[string]any{"width": fi.Width, "height": fi.Height, "channels": fi.Channels, "bitpix": fi.Bitpix, "hdu": fi.HDU}))
	for _, k := range infoKeys {
		if v, ok := fi.Keys[k]; ok {
			fmt.Fprintf(w, "  %-9s %v\n", k, v)
		}
	}
	for _, warn := range fi.Warnings {
		fmt.Fprintf(w, "  %s: %s\n", a.t("level_warn", nil), warn)
	}
	if fi.WCS == nil {
		fmt.Fprintf(w, "  %s\n", a.t("info_no_wcs", nil))
		return
	}
	wi := fi.WCS
	fmt.Fprintf(w, "  %s\n", a.t("info_wcs", map[string]any{
		"ctype": strings.Join(wi.CType[:], " "), "sip": wi.SIPOrder, "scale": wi.ScaleArcsec, "rotation": wi.Rotation}))
	fmt.Fprintf(w, "  CRVAL     %.8f %.8f   CRPIX %.3f %.3f\n", wi.CRVal[0], wi.CRVal[1], wi.CRPix[0], wi.CRPix[1])
	if wi.Problems != "" {
		fmt.Fprintf(w, "  %s: %s\n", a.t("level_warn", nil), wi.Problems)
	}
	if fi.Center != nil {
		fmt.Fprintf(w, "  %-9s %s\n", a.t("info_center", nil), sexagesimal(fi.Center[0], fi.Center[1]))
	}
	for i, c := range fi.Corners {
		fmt.Fprintf(w, "  %s %d  %s\n", a.t("info_corner", nil), i+1, sexagesimal(c[0], c[1]))
	}
}

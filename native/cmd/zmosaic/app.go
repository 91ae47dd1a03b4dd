package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/pflag"

	"github.com/zmosaic/zmosaic/compute"
	"github.com/zmosaic/zmosaic/locales"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// command is one subcommand: its name, the locale keys of its help, and what it does.
type command struct {
	name  string
	flags func(a *app, fs *pflag.FlagSet) func(args []string) int
}

var commands = []command{
	{"run", runCommand},
	{"stack", stackCommand},
	{"mosaic", mosaicCommand},
	{"info", infoCommand},
	{"preview", previewCommand},
	{"synth", synthCommand},
	{"demo", demoCommand},
	{"compare", compareCommand},
	{"gpu", gpuCommand},
	{"serve", serveCommand},
	{"version", versionCommand},
}

// app is the state of one invocation: where text goes and in which language.
type app struct {
	ctx            context.Context
	stdout, stderr io.Writer
	loc            *locales.Localizer
	lang           string
	quiet          bool
	tty            bool // stderr is a terminal: progress bars instead of lines

	mu     sync.Mutex
	events []compute.Event
	bar    *progress
}

// run is the whole program, testable in-process: it returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cat, err := locales.Load()
	if err != nil {
		fmt.Fprintln(stderr, "zmosaic:", err)
		return exitFailure
	}
	a := &app{ctx: ctx, stdout: stdout, stderr: stderr, tty: isTerminal(stderr)}
	a.lang = langFromArgs(args, envLang())
	a.loc = cat.Localizer(a.lang)

	// Global flags may come before the command: they are moved after it.
	global, rest := splitGlobal(args)
	if len(rest) == 0 || rest[0] == "help" || rest[0] == "-h" || rest[0] == "--help" {
		if len(rest) > 1 && rest[0] == "help" {
			return a.dispatch(rest[1], append([]string{"--help"}, global...))
		}
		a.mainUsage(stdout)
		return exitOK
	}
	if strings.HasPrefix(rest[0], "-") {
		a.mainUsage(stderr)
		return exitUsage
	}
	return a.dispatch(rest[0], append(rest[1:], global...))
}

func (a *app) dispatch(name string, args []string) int {
	for _, c := range commands {
		if c.name != name {
			continue
		}
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.SortFlags = false
		// One name for one thing: --kappa_low and --kappa-low are the same flag (config keys use '_').
		fs.SetNormalizeFunc(func(_ *pflag.FlagSet, n string) pflag.NormalizedName {
			return pflag.NormalizedName(strings.ReplaceAll(n, "_", "-"))
		})
		body := c.flags(a, fs)
		fs.String("lang", a.loc.Lang(), a.t("flag_lang", nil))
		fs.BoolVarP(&a.quiet, "quiet", "q", false, a.t("flag_quiet", nil))
		err := fs.Parse(args)
		switch {
		case errors.Is(err, pflag.ErrHelp):
			a.commandUsage(a.stdout, name, fs)
			return exitOK
		case err != nil:
			a.errorf("usage_error", map[string]any{"command": name, "error": err.Error()})
			return exitUsage
		}
		return body(fs.Args())
	}
	a.errorf("unknown_command", map[string]any{"command": name})
	a.mainUsage(a.stderr)
	return exitUsage
}

// t renders a message in the chosen language.
func (a *app) t(key string, params map[string]any) string { return a.loc.T(key, params) }

// errorf prints a localised error line; errors are shown even with --quiet.
func (a *app) errorf(key string, params map[string]any) {
	a.clearBar()
	fmt.Fprintln(a.stderr, "zmosaic: "+a.t(key, params))
}

// warnf prints a localised warning line; warnings are shown even with --quiet.
func (a *app) warnf(key string, params map[string]any) {
	a.clearBar()
	fmt.Fprintln(a.stderr, a.t("level_warn", nil)+": "+a.t(key, params))
}

// infof prints a localised information line unless --quiet.
func (a *app) infof(key string, params map[string]any) {
	if a.quiet {
		return
	}
	a.clearBar()
	fmt.Fprintln(a.stderr, a.t(key, params))
}

// event records an event for the report and shows it: warnings always, information unless
// --quiet, debug never. A reason the Runner decided is shown in the user's language (its
// reason_key); the English "reason" stays in the report.
func (a *app) event(e compute.Event) {
	a.mu.Lock()
	a.events = append(a.events, e)
	a.mu.Unlock()
	switch {
	case e.Level >= compute.Warn:
		a.clearBar()
		fmt.Fprintln(a.stderr, a.t("level_"+e.Level.String(), nil)+": "+a.loc.Event(e.Key, e.Params))
	case e.Level == compute.Info && !a.quiet:
		a.clearBar()
		fmt.Fprintln(a.stderr, a.loc.Event(e.Key, e.Params))
	}
}

func (a *app) takeEvents() []compute.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev := a.events
	a.events = nil
	return ev
}

func (a *app) mainUsage(w io.Writer) {
	fmt.Fprintln(w, a.t("help_main", nil))
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, a.t("help_"+c.name+"_short", nil))
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, a.t("help_main_footer", nil))
}

func (a *app) commandUsage(w io.Writer, name string, fs *pflag.FlagSet) {
	fmt.Fprintln(w, a.t("help_"+name+"_usage", nil))
	fmt.Fprintln(w)
	fmt.Fprintln(w, a.t("help_"+name+"_short", nil))
	fmt.Fprintln(w)
	fmt.Fprintln(w, a.t("help_flags", nil))
	fmt.Fprint(w, fs.FlagUsages())
	fmt.Fprintln(w)
	fmt.Fprintln(w, a.t("help_example", nil))
	fmt.Fprintln(w, "  "+a.t("help_"+name+"_example", nil))
}

// envLang is the user's language from the usual variables, most specific first.
func envLang() string {
	for _, k := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "en"
}

// langFromArgs finds --lang early, because flag help and parse errors are already localised.
func langFromArgs(args []string, def string) string {
	for i, s := range args {
		if s == "--" {
			break
		}
		if v, ok := strings.CutPrefix(s, "--lang="); ok {
			return v
		}
		if s == "--lang" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return def
}

// splitGlobal separates leading --lang/--quiet flags from the command and its arguments.
func splitGlobal(args []string) (global, rest []string) {
	for i := 0; i < len(args); i++ {
		switch {
		case strings.HasPrefix(args[i], "--lang="), args[i] == "--quiet", args[i] == "-q":
			global = append(global, args[i])
		case args[i] == "--lang" && i+1 < len(args):
			global = append(global, args[i], args[i+1])
			i++
		default:
			return global, args[i:]
		}
	}
	return global, nil
}

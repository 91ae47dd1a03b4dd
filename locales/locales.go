package locales

import (
	"embed"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

//go:embed en.json fr.json
var files embed.FS

// Supported lists the languages shipped, the first being the fallback.
var Supported = []language.Tag{language.English, language.French}

// placeholder matches {name} and {name:verb}, e.g. {estimated_mb:.1f}.
var placeholder = regexp.MustCompile(`\{([a-z][a-z0-9_]*)(?::([^}]*))?\}`)

// template is one message compiled to a printf format with indexed arguments.
type template struct {
	format string   // "GPU memory: %.1[1]f MB"
	params []string // parameter names in argument order
}

// Catalog holds all messages of all languages. Build it once with Load; it is safe for
// concurrent use.
type Catalog struct {
	cat       catalog.Catalog
	templates map[language.Tag]map[string]template
	matcher   language.Matcher
}

// Load parses the embedded en.json and fr.json into one x/text catalog.
func Load() (*Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	c := &Catalog{templates: map[language.Tag]map[string]template{}, matcher: language.NewMatcher(Supported)}
	for _, tag := range Supported {
		raw, err := Raw(tag.String())
		if err != nil {
			return nil, err
		}
		ts := make(map[string]template, len(raw))
		for key, msg := range raw {
			t := compile(msg)
			ts[key] = t
			if err := b.SetString(tag, key, t.format); err != nil {
				return nil, fmt.Errorf("locales: %s: key %q: %w", tag, key, err)
			}
		}
		c.templates[tag] = ts
	}
	c.cat = b
	return c, nil
}

// Raw returns the messages of one language file ("en", "fr") as written.
func Raw(lang string) (map[string]string, error) {
	data, err := files.ReadFile(lang + ".json")
	if err != nil {
		return nil, fmt.Errorf("locales: no messages for %q: %w", lang, err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("locales: %s.json: %w", lang, err)
	}
	return m, nil
}

// Placeholders returns the sorted, de-duplicated placeholder names of a message.
func Placeholders(msg string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(msg, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

func compile(msg string) template {
	var t template
	index := map[string]int{}
	var sb strings.Builder
	last := 0
	for _, loc := range placeholder.FindAllStringSubmatchIndex(msg, -1) {
		sb.WriteString(strings.ReplaceAll(msg[last:loc[0]], "%", "%%"))
		name := msg[loc[2]:loc[3]]
		verb := "v"
		if loc[4] >= 0 && loc[5] > loc[4] {
			verb = msg[loc[4]:loc[5]]
		}
		i, ok := index[name]
		if !ok {
			t.params = append(t.params, name)
			i = len(t.params)
			index[name] = i
		}
		// The index goes right before the verb letter: "%.1[2]f" (fmt and x/text agree on it).
		fmt.Fprintf(&sb, "%%%s[%d]%s", verb[:len(verb)-1], i, verb[len(verb)-1:])
		last = loc[1]
	}
	sb.WriteString(strings.ReplaceAll(msg[last:], "%", "%%"))
	t.format = sb.String()
	return t
}

// Match picks the supported language closest to a LANG-style value ("fr_FR.UTF-8", "fr",
// "en-GB", "C"); anything unknown gives English.
func (c *Catalog) Match(lang string) language.Tag {
	lang = strings.SplitN(lang, ".", 2)[0] // drop the ".UTF-8" codeset
	lang = strings.ReplaceAll(lang, "_", "-")
	tag, err := language.Parse(lang)
	if err != nil {
		return language.English
	}
	_, i, conf := c.matcher.Match(tag)
	if conf == language.No {
		return language.English
	}
	return Supported[i]
}

// Localizer renders messages in one language.
type Localizer struct {
	cat     *Catalog
	tag     language.Tag
	printer *message.Printer
}

// Localizer returns a renderer for the language closest to lang (see Match).
func (c *Catalog) Localizer(lang string) *Localizer {
	tag := c.Match(lang)
	return &Localizer{cat: c, tag: tag, printer: message.NewPrinter(tag, message.Catalog(c.cat))}
}

// Lang is the language in use ("en" or "fr").
func (l *Localizer) Lang() string { return l.tag.String() }

// T renders message key with named parameters. Missing parameters render as "?"; an unknown
// key renders as "key {k=v …}" so that nothing is dropped silently.
func (l *Localizer) T(key string, params map[string]any) string {
	t, ok := l.cat.templates[l.tag][key]
	if !ok {
		if len(params) == 0 {
			return key
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(params)) {
			parts = append(parts, fmt.Sprintf("%s=%v", k, params[k]))
		}
		return key + " {" + strings.Join(parts, " ") + "}"
	}
	args := make([]any, len(t.params))
	for i, name := range t.params {
		v, ok := params[name]
		if !ok {
			v = "?"
		}
		args[i] = v
	}
	return l.printer.Sprintf(key, args...)
}

// Has reports whether key exists in the catalog.
func (l *Localizer) Has(key string) bool {
	_, ok := l.cat.templates[l.tag][key]
	return ok
}

// Event renders an event's message. When params names a "reason_key" that the catalog holds,
// the {reason} placeholder gets that reason in this language, rendered from the same params,
// instead of the English "reason" text the event also carries for reports and logs. params is
// not modified.
func (l *Localizer) Event(key string, params map[string]any) string {
	rk, ok := params["reason_key"].(string)
	if !ok || !l.Has(rk) {
		return l.T(key, params)
	}
	p := maps.Clone(params)
	p["reason"] = l.T(rk, params)
	return l.T(key, p)
}

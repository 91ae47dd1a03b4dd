// Package locales owns every user-facing message of zmosaic: log lines, errors, progress labels,
// help text. en.json and fr.json are the source of truth; both are embedded and loaded into one
// golang.org/x/text catalog, so numbers are formatted the way the chosen language writes them.
//
// # Message format
//
// A message is a plain string with named placeholders: "{file}" or, with a printf verb,
// "{budget_mb:.1f}". Placeholders become indexed printf arguments (%[1]v, %.1[2]f) when the
// catalog is built, so a translation may reorder them freely. A literal percent sign is written
// as is ("3 %"). Both files must hold the same keys with the same placeholders; a test enforces it.
//
// # Events
//
// Libraries emit keys and parameters (compute.Event); only the edges (native, wasm) turn them into
// text with a Localizer. A key missing from the catalog is rendered as the key followed by its
// parameters, never as an empty string, so nothing is silently lost. Localizer.Event renders an
// event: when its parameters name a "reason_key", the {reason} placeholder is that reason
// message in the same language instead of the English "reason" text.
package locales

package main

// The build's objects as JSON straight from kustomize's resources, without
// kustomize's YAML text in between.
//
// kustomize writes each resource as YAML by turning it into JSON
// (Resource.MarshalJSON) and that JSON into YAML (sigs.k8s.io/yaml's
// JSONToYAML: a YAML parse of the JSON, then the go-yaml v2 encoder). objects.go
// then parsed that text again to give Node JSON. Both YAML steps cost about a
// third of a large build (the parent kustomization of a home-ops repository:
// 100 Kustomizations, each patched). Here the JSON that the YAML text is made
// from is written directly, the same value the text says, under two rules:
//
//   - Key order: the v2 encoder sorts each mapping's keys in its own "natural"
//     order (a9 before a10, a_b before aB), not the byte order of the JSON.
//     naturalLess gives that order; worker tests hold it to the encoder.
//   - Scalars: Node reads the YAML text with the YAML 1.2 core schema. A string
//     reads back as that string when the core schema takes it for a string, or
//     when the encoder quotes it; a string the encoder would write plain and the
//     core schema would read as something else (none is known) makes the whole
//     answer fall back to the YAML text. Numbers follow objects.go's rules
//     (integers of at most 15 digits, JSON-grammar floats, no negative zero).
//
// Anything else (a resource that is not a mapping, a MarshalJSON error, a
// panic) falls back as well: this is a faster form of the same answer, never a
// different one.

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v2"
	"sigs.k8s.io/kustomize/api/resmap"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// resourcesJSON is the build's objects as one JSON array, or false when it
// cannot say them exactly as the YAML text would.
func resourcesJSON(m resmap.ResMap) (out []byte, ok bool) {
	defer func() {
		if r := recover(); r != nil {
			out, ok = nil, false
		}
	}()
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, res := range m.Resources() {
		value, sure := nodeValue(res.YNode(), false)
		if !sure {
			var err error
			if value, err = marshalledValue(res); err != nil {
				return nil, false
			}
		}
		if _, isMap := value.(map[string]any); !isMap {
			return nil, false
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeJSONValue(&buf, value); err != nil {
			return nil, false
		}
	}
	buf.WriteByte(']')
	return buf.Bytes(), true
}

// marshalledValue is the value of Resource.MarshalJSON, the JSON kustomize
// turns into its YAML text (numbers as their JSON text).
func marshalledValue(res json.Marshaler) (any, error) {
	raw, err := res.MarshalJSON()
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var value any
	err = dec.Decode(&value)
	return value, err
}

// nodeValue is marshalledValue's value read straight from the resource's
// YAML node, without MarshalJSON's three steps (the node written as YAML by
// go-yaml v3, that text decoded into Go maps, those written as JSON), which
// cost about a seventh of the worker's CPU on a home-ops repository. Sure
// only where it knows what that round trip makes of the node; anything else
// (aliases, merge keys, explicit or unknown tags, floats, timestamps, long or
// unusual integers, an empty scalar the encoder would quote, text beyond
// printable ASCII, duplicate keys) is unsure, and the caller asks MarshalJSON
// itself. Worker tests hold the two to the same value on every sure node.
//
// The round trip, for a scalar: v3's encoder writes its value plain when
// its tag is the one the value resolves to (then it reads back as that
// type), quoted when the tag is !!str and the value resolves to another
// type (it reads back as a string), and with the tag written out otherwise.
// inFlow: inside a flow-style collection, where an empty scalar is quoted.
func nodeValue(n *kyaml.Node, inFlow bool) (any, bool) {
	if n == nil || n.Style&kyaml.TaggedStyle != 0 {
		return nil, false
	}
	if n.Tag != "" && !knownTags[n.Tag] {
		return nil, false
	}
	switch n.Kind {
	case kyaml.MappingNode:
		if n.ShortTag() != "!!map" || len(n.Content)%2 != 0 {
			return nil, false
		}
		flow := inFlow || n.Style&kyaml.FlowStyle != 0
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key, ok := nodeValue(k, flow)
			name, isString := key.(string)
			if !ok || !isString || k.Kind != kyaml.ScalarNode || name == "<<" {
				return nil, false
			}
			if _, twice := m[name]; twice {
				return nil, false
			}
			value, ok := nodeValue(v, flow)
			if !ok {
				return nil, false
			}
			m[name] = value
		}
		return m, true
	case kyaml.SequenceNode:
		if n.ShortTag() != "!!seq" {
			return nil, false
		}
		flow := inFlow || n.Style&kyaml.FlowStyle != 0
		items := make([]any, len(n.Content))
		for i, item := range n.Content {
			value, ok := nodeValue(item, flow)
			if !ok {
				return nil, false
			}
			items[i] = value
		}
		return items, true
	case kyaml.ScalarNode:
		v := n.Value
		tag := n.ShortTag()
		if tag == "!!str" {
			block := n.Style&(kyaml.LiteralStyle|kyaml.FoldedStyle) != 0 || strings.Contains(v, "\n")
			folded := n.Style&kyaml.FoldedStyle != 0 && strings.Contains(v, "\n")
			return v, plainASCII(v) && !(block && strings.Contains(v, "\t")) && !folded
		}
		if n.Style&(kyaml.SingleQuotedStyle|kyaml.DoubleQuotedStyle|kyaml.LiteralStyle|kyaml.FoldedStyle) != 0 {
			return nil, false // written in that style without its tag, it reads back as a string
		}
		switch tag {
		case "!!int":
			return json.Number(v), exactInt.MatchString(v)
		case "!!bool":
			switch v {
			case "true", "True", "TRUE":
				return true, true
			case "false", "False", "FALSE":
				return false, true
			}
		case "!!null":
			switch v {
			case "~", "null", "Null", "NULL":
				return nil, true
			case "":
				return nil, !inFlow
			}
		}
	}
	return nil, false
}

// plainASCII: s has only printable ASCII, tabs and line feeds. v3 writes
// such a string so that it reads back the same; other text (a carriage
// return, a NEL or line separator inside a block scalar, which the reader
// turns into a line feed) is left to the round trip itself, and so is a
// block scalar (literal, folded, or any text with a line feed) with a tab,
// which v3 may write where the block's indentation goes, unreadable, and
// a folded scalar of several lines (v3 may write one line break more).
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 0x20 || c > 0x7e) && c != '\n' && c != '\t' {
			return false
		}
	}
	return true
}

// knownTags are the tags nodeValue reads (kustomize and go-yaml v3 write
// the short form; the long form means the same).
var knownTags = map[string]bool{
	"!!str": true, "!!int": true, "!!bool": true, "!!null": true, "!!map": true, "!!seq": true,
	"tag:yaml.org,2002:str": true, "tag:yaml.org,2002:int": true, "tag:yaml.org,2002:bool": true,
	"tag:yaml.org,2002:null": true, "tag:yaml.org,2002:map": true, "tag:yaml.org,2002:seq": true,
}

func writeJSONValue(out *bytes.Buffer, value any) error {
	switch v := value.(type) {
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			if !readsBackAsString(k) || !orderable(k) {
				return errNotExact
			}
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return naturalLess(keys[i], keys[j]) })
		if !consistentOrder(keys) {
			return errNotExact
		}
		out.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				out.WriteByte(',')
			}
			writeString(out, k)
			out.WriteByte(':')
			if err := writeJSONValue(out, v[k]); err != nil {
				return err
			}
		}
		out.WriteByte('}')
	case []any:
		out.WriteByte('[')
		for i, item := range v {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := writeJSONValue(out, item); err != nil {
				return err
			}
		}
		out.WriteByte(']')
	case string:
		if !readsBackAsString(v) {
			return errNotExact
		}
		writeString(out, v)
	case json.Number:
		text := v.String()
		if coreInt.MatchString(text) {
			if !exactInt.MatchString(text) {
				return errNotExact
			}
		} else if !jsonNumber.MatchString(text) || strings.HasPrefix(text, "-0") && isZero(text) {
			return errNotExact
		}
		out.WriteString(text)
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case nil:
		out.WriteString("null")
	default:
		return errNotExact
	}
	return nil
}

// isZero is true for a JSON number whose value is zero ("-0", "-0.0e5").
func isZero(text string) bool {
	mantissa, _, _ := strings.Cut(strings.ToLower(text), "e")
	return strings.Trim(mantissa, "-+0.") == ""
}

// readsBackAsString: the YAML 1.2 core schema reads s as the string s, plain
// or quoted; or the v2 encoder quotes s (then any reader takes it as a string).
func readsBackAsString(s string) bool {
	if plainString(s) && s != "<<" {
		return true
	}
	return encoderQuotes(s)
}

// encoderQuotes: go-yaml v2, kustomize's YAML writer, writes s quoted. Asked
// of the encoder itself, for the few strings that look like another type.
func encoderQuotes(s string) bool {
	text, err := yaml.Marshal(s)
	return err == nil && len(text) > 0 && (text[0] == '"' || text[0] == '\'')
}

// orderable: naturalLess is sure of the key's place: its digits are ASCII,
// in runs short enough to compare as numbers.
func orderable(key string) bool {
	run := 0
	for _, r := range key {
		switch {
		case r >= '0' && r <= '9':
			run++
			if run > 18 {
				return false
			}
		case unicode.IsDigit(r):
			return false
		default:
			run = 0
		}
	}
	return true
}

// consistentOrder: sorted keys in an order naturalLess holds for every pair.
// The encoder's order is not transitive for some mixes of letters and digits
// ("1z" < "2", "2" < "12", "12" < "1z"): its output then depends on the order
// it met the keys in, and only the YAML text can say it. Mappings of more
// than 32 keys are checked only when no key has a digit (the order of keys
// without digits is plain rune order, with letters after everything else).
func consistentOrder(keys []string) bool {
	if len(keys) > 32 {
		for _, k := range keys {
			if strings.ContainsAny(k, "0123456789") {
				return false
			}
		}
		return true
	}
	for i := range keys {
		for j := i + 1; j < len(keys); j++ {
			if !naturalLess(keys[i], keys[j]) {
				return false
			}
		}
	}
	return true
}

// naturalLess orders mapping keys as kustomize's YAML output lists them (the
// go-yaml v2 encoder's order): at the first rune where the keys differ, two
// letters compare as runes; a letter comes after anything else; otherwise the
// runs of digits that start there compare as numbers (a9 < a10), a zero that
// continues a number counting as a digit like any other, then the shorter run
// first, then the runes. A key that is a prefix of the other comes first.
func naturalLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		aLetter, bLetter := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		if aLetter && bLetter {
			return ar[i] < br[i]
		}
		if aLetter || bLetter {
			return bLetter
		}
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			// A zero inside a number (after a non-zero digit) is significant.
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

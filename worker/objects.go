package main

// The objects of a build as JSON, for flux-local's Node side to read with
// JSON.parse instead of its YAML parser (the larger part of its work per build).
//
// The JSON must be exactly what flux-local's YAML reader (the `yaml` npm
// package, YAML 1.2 core schema, no merge keys) makes of kustomize's YAML text,
// so the text itself is read back here and each scalar is taken as that reader
// takes it. Anything this does not map with certainty (tags, anchors and
// aliases, merge keys, non-string keys, octal/hex/long integers, .inf/.nan,
// numbers JSON writes differently, a document that is not a mapping, text the
// parser refuses) makes the whole answer plain YAML again, parsed in Node as
// before: the JSON is a faster form of the same answer, never a different one.

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"regexp"
	"strconv"
	"unicode/utf8"

	"sigs.k8s.io/kustomize/kyaml/yaml"
)

var errNotExact = errors.New("not exactly representable as JSON")

// The plain-scalar patterns of the YAML 1.2 core schema as the `yaml` npm
// package tests them (schema/core, in its order), and JSON's number grammar.
var (
	coreNull     = regexp.MustCompile(`^(?:~|[Nn]ull|NULL)?$`)
	coreBool     = regexp.MustCompile(`^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$`)
	coreIntOct   = regexp.MustCompile(`^0o[0-7]+$`)
	coreInt      = regexp.MustCompile(`^[-+]?[0-9]+$`)
	coreIntHex   = regexp.MustCompile(`^0x[0-9a-fA-F]+$`)
	coreFloatNaN = regexp.MustCompile(`^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$`)
	coreFloatExp = regexp.MustCompile(`^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$`)
	coreFloat    = regexp.MustCompile(`^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$`)
	// Integers JSON.parse and parseInt read alike, exactly (at most 15 digits, no -0).
	exactInt = regexp.MustCompile(`^(?:0|-?[1-9][0-9]{0,14})$`)
	// JSON's number grammar: then JSON.parse and parseFloat read the same double.
	jsonNumber = regexp.MustCompile(`^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$`)
)

// asObjects is objectsJSON(text) when wanted and exact.
func asObjects(wanted bool, text []byte) ([]byte, bool) {
	if !wanted {
		return nil, false
	}
	out, err := objectsJSON(text)
	return out, err == nil
}

// objectsJSON is kustomize's YAML output as one JSON array of its documents'
// objects, or errNotExact.
func objectsJSON(text []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(text) + len(text)/4)
	out.WriteByte('[')
	first := true
	dec := yaml.NewDecoder(bytes.NewReader(text))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errNotExact
		}
		if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
			return nil, errNotExact
		}
		root := doc.Content[0]
		if root.Kind == yaml.ScalarNode && root.Style == 0 && root.Anchor == "" && coreNull.MatchString(root.Value) {
			continue // an empty document: skipped, as the YAML reader skips it
		}
		if root.Kind != yaml.MappingNode {
			return nil, errNotExact
		}
		if !first {
			out.WriteByte(',')
		}
		first = false
		if err := writeNode(&out, root); err != nil {
			return nil, err
		}
	}
	out.WriteByte(']')
	return out.Bytes(), nil
}

func writeNode(out *bytes.Buffer, n *yaml.Node) error {
	if n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return errNotExact
	}
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content)%2 != 0 {
			return errNotExact
		}
		seen := make(map[string]struct{}, len(n.Content)/2)
		out.WriteByte('{')
		for i := 0; i < len(n.Content); i += 2 {
			key, err := keyString(n.Content[i])
			if err != nil {
				return err
			}
			if _, dup := seen[key]; dup {
				return errNotExact
			}
			seen[key] = struct{}{}
			if i > 0 {
				out.WriteByte(',')
			}
			writeString(out, key)
			out.WriteByte(':')
			if err := writeNode(out, n.Content[i+1]); err != nil {
				return err
			}
		}
		out.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		out.WriteByte('[')
		for i, item := range n.Content {
			if i > 0 {
				out.WriteByte(',')
			}
			if err := writeNode(out, item); err != nil {
				return err
			}
		}
		out.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		return writeScalar(out, n)
	default: // aliases, nested documents
		return errNotExact
	}
}

func quoted(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0
}

// keyString is a mapping key as the YAML reader names the property: only keys
// that read as strings (quoted, or plain and no other type).
func keyString(n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode || n.Anchor != "" || n.Style&yaml.TaggedStyle != 0 {
		return "", errNotExact
	}
	if !utf8.ValidString(n.Value) {
		return "", errNotExact
	}
	if quoted(n) {
		return n.Value, nil
	}
	if n.Value == "<<" || !plainString(n.Value) {
		return "", errNotExact
	}
	return n.Value, nil
}

// plainString is true when the core schema reads the plain scalar as a string.
func plainString(v string) bool {
	return !(coreNull.MatchString(v) || coreBool.MatchString(v) || coreIntOct.MatchString(v) ||
		coreInt.MatchString(v) || coreIntHex.MatchString(v) || coreFloatNaN.MatchString(v) ||
		coreFloatExp.MatchString(v) || coreFloat.MatchString(v))
}

func writeScalar(out *bytes.Buffer, n *yaml.Node) error {
	v := n.Value
	if !utf8.ValidString(v) {
		return errNotExact
	}
	if quoted(n) {
		writeString(out, v)
		return nil
	}
	// In the order the core schema tests them: the first match decides.
	switch {
	case coreNull.MatchString(v):
		out.WriteString("null")
	case coreBool.MatchString(v):
		if v[0] == 't' || v[0] == 'T' {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case coreIntOct.MatchString(v):
		return errNotExact
	case coreInt.MatchString(v):
		if !exactInt.MatchString(v) {
			return errNotExact
		}
		out.WriteString(v)
	case coreIntHex.MatchString(v), coreFloatNaN.MatchString(v):
		return errNotExact
	case coreFloatExp.MatchString(v), coreFloat.MatchString(v):
		if !jsonNumber.MatchString(v) {
			return errNotExact
		}
		f, err := strconv.ParseFloat(v, 64)
		// Out of range (±Inf) or a negative zero: JSON cannot carry it exactly.
		if err != nil || (f == 0 && v[0] == '-') {
			return errNotExact
		}
		out.WriteString(v)
	default:
		writeString(out, v)
	}
	return nil
}

func writeString(out *bytes.Buffer, s string) {
	// json.Marshal of a valid UTF-8 string cannot fail.
	b, _ := json.Marshal(s)
	out.Write(b)
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// encoderOrder is the order go-yaml v2 writes the keys of a mapping in.
func encoderOrder(t *testing.T, keys []string) []string {
	t.Helper()
	m := make(map[string]int, len(keys))
	for i, k := range keys {
		m[k] = i
	}
	text, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
		at := strings.LastIndex(line, ": ")
		i, err := strconv.Atoi(line[at+2:])
		if err != nil {
			t.Fatalf("cannot read %q", line)
		}
		order = append(order, keys[i])
	}
	return order
}

func TestNaturalLessIsTheEncodersOrder(t *testing.T) {
	alphabet := []string{"a", "b", "z", "A", "B", "Z", "_", "-", ".", "/", " ", "0", "1", "2", "9", "é", "ß"}
	rng := rand.New(rand.NewSource(1))
	compared := 0
	for round := 0; round < 3000; round++ {
		seen := map[string]bool{}
		var keys []string
		for n := 2 + rng.Intn(8); len(keys) < n; {
			var b strings.Builder
			for l := rng.Intn(7); l > 0; l-- {
				b.WriteString(alphabet[rng.Intn(len(alphabet))])
			}
			k := b.String()
			if !seen[k] && orderable(k) {
				seen[k] = true
				keys = append(keys, k)
			}
		}
		got := append([]string(nil), keys...)
		sort.Slice(got, func(i, j int) bool { return naturalLess(got[i], got[j]) })
		if !consistentOrder(got) {
			continue // no one order: the encoder's depends on the order it met the keys in
		}
		want := encoderOrder(t, keys)
		compared++
		if strings.Join(got, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("keys %q: encoder order %q, naturalLess %q", keys, want, got)
		}
	}
	if compared < 1500 {
		t.Fatalf("only %d of 3000 key sets had one order", compared)
	}
}

func TestNaturalLessKnownCases(t *testing.T) {
	want := []string{"Z", "a 1", "a-b", "a.b", "a_b", "a9", "a10", "aB", "aa", "z2x", "z10", "z010", "é"}
	got := append([]string(nil), want...)
	rand.New(rand.NewSource(2)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	sort.Slice(got, func(i, j int) bool { return naturalLess(got[i], got[j]) })
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %q", got)
	}
}

// buildOne builds, in memory, a kustomization (its text) over one resource
// file r.yaml (doc), as the worker builds.
func buildOne(t *testing.T, doc, kustomization string) resmap.ResMap {
	t.Helper()
	fSys := filesys.MakeFsInMemory()
	if err := fSys.WriteFile("/app/r.yaml", []byte(doc)); err != nil {
		t.Fatal(err)
	}
	if err := fSys.WriteFile("/app/kustomization.yaml", []byte(kustomization)); err != nil {
		t.Fatal(err)
	}
	m, err := krusty.MakeKustomizer(options(false)).Run(fSys, "/app")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The objects straight from the resources are byte for byte those read back
// from kustomize's YAML text, or the direct way declines.
func TestResourcesJSONIsTheYAMLTextsObjects(t *testing.T) {
	cases := map[string]string{
		"plain": `apiVersion: v1
kind: ConfigMap
metadata: {name: x, labels: {app: x, a10: y, a9: z, a_b: "1", aB: "2"}}
data: {port: "8080", on: "yes", t: "true", n: "null", e: "", f: "1.5", x: "0x1F", o: "0o17", inf: ".inf", tilde: "~", multi: "a\nb\n", sp: " lead", hash: "a #b", colon: "a: b"}
`,
		"numbers": `apiVersion: v1
kind: Thing
metadata: {name: n}
spec: {i: 8080, neg: -3, f: 1.5, e: 1e3, small: 0.000001, z: 0, b: true, nul: null, list: [1, "2", three, {k: v}]}
`,
		"nested": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns, annotations: {"prometheus.io/port": "9090", "prometheus.io/scrape": "true"}}
spec:
  replicas: 2
  template:
    spec:
      containers:
        - name: c
          image: nginx:1.27
          env: [{name: A, value: "1"}, {name: B, value: "on"}]
          args: ["--x=1", "-v", "2"]
`,
	}
	for name, doc := range cases {
		t.Run(name, func(t *testing.T) {
			m := buildOne(t, doc, "resources: [r.yaml]\nnamePrefix: p-\n")
			text, err := m.AsYaml()
			if err != nil {
				t.Fatal(err)
			}
			fromText, textOK := asObjects(true, text)
			direct, directOK := resourcesJSON(m)
			if !directOK {
				t.Fatalf("direct declined (the text way: %v)", textOK)
			}
			if !textOK {
				t.Fatalf("direct answered, the text way declined:\n%s", text)
			}
			if !sameJSON(t, direct, fromText) {
				t.Fatalf("direct:\n%s\nfrom the text:\n%s\ntext:\n%s", direct, fromText, text)
			}
		})
	}
}

// sameJSON: the same tokens in the same order, numbers compared as the
// doubles JSON.parse makes of them ("1e-06" and "0.000001" are one number).
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	da, db := json.NewDecoder(bytes.NewReader(a)), json.NewDecoder(bytes.NewReader(b))
	da.UseNumber()
	db.UseNumber()
	for {
		ta, ea := da.Token()
		tb, eb := db.Token()
		if ea == io.EOF && eb == io.EOF {
			return true
		}
		if ea != nil || eb != nil {
			return false
		}
		na, aNum := ta.(json.Number)
		nb, bNum := tb.(json.Number)
		if aNum && bNum {
			fa, _ := na.Float64()
			fb, _ := nb.Float64()
			if fa != fb {
				return false
			}
			continue
		}
		if ta != tb {
			return false
		}
	}
}

// What JSON cannot say exactly, neither way says.
func TestResourcesJSONDeclinesLikeTheYAMLText(t *testing.T) {
	doc := "apiVersion: v1\nkind: Thing\nmetadata: {name: n}\nspec: {big: 12345678901234567890}\n"
	m := buildOne(t, doc, "resources: [r.yaml]\n")
	text, _ := m.AsYaml()
	if _, ok := asObjects(true, text); ok {
		t.Fatal("the text way answered")
	}
	if _, ok := resourcesJSON(m); ok {
		t.Fatal("the direct way answered")
	}
}

func TestEncoderQuotesWhatLooksLikeAnotherType(t *testing.T) {
	for _, s := range []string{"true", "True", "TRUE", "false", "null", "Null", "~", "", "1", "-1", "+1", "1.5", "1e3", ".inf", "-.Inf", ".nan", "0x1F", "0o17", "1."} {
		if plainString(s) {
			t.Fatalf("%q: the core schema reads it as a string", s)
		}
		if !readsBackAsString(s) {
			t.Errorf("%q: the encoder writes it plain", s)
		}
	}
}

// randomNode is a YAML node of the kinds, tags, styles and text kustomize's
// resources hold, and some they rarely do.
func randomNode(rng *rand.Rand, depth int) *kyaml.Node {
	tags := []string{"", "", "", "", "", "", "!!str", "!!str", "!!int", "!!bool", "!!null", "!!float", "!", "!custom", "tag:yaml.org,2002:str", "!!timestamp"}
	pick := func(list []string) string { return list[rng.Intn(len(list))] }
	if depth > 0 && rng.Intn(3) == 0 {
		n := &kyaml.Node{Kind: kyaml.MappingNode}
		if rng.Intn(4) == 0 {
			n.Style = kyaml.FlowStyle
		}
		if rng.Intn(20) == 0 {
			n.Tag = pick([]string{"!!map", "!custom", "!!seq"})
		}
		for i := rng.Intn(4); i > 0; i-- {
			n.Content = append(n.Content, randomScalar(rng, pick(tags)), randomNode(rng, depth-1))
		}
		return n
	}
	if depth > 0 && rng.Intn(4) == 0 {
		n := &kyaml.Node{Kind: kyaml.SequenceNode}
		if rng.Intn(4) == 0 {
			n.Style = kyaml.FlowStyle
		}
		for i := rng.Intn(4); i > 0; i-- {
			n.Content = append(n.Content, randomNode(rng, depth-1))
		}
		return n
	}
	return randomScalar(rng, pick(tags))
}

func randomScalar(rng *rand.Rand, tag string) *kyaml.Node {
	values := []string{"", "~", "null", "Null", "NULL", "true", "True", "false", "FALSE", "yes", "on", "0", "-0", "00", "7", "-12", "+3",
		"012", "0x1F", "0o17", "1_000", "123456789012345", "1234567890123456", "1.5", "1e3", ".inf", ".nan", "2001-12-14", "<<", "a"}
	alphabet := []string{"a", "Z", "0", "9", " ", "\n", "\t", "#", ":", "-", "'", "\"", "~", ".", "é", "\r", "\u0085", "\u2028", "&", "*", "!", "{", ","}
	var value string
	if rng.Intn(2) == 0 {
		value = values[rng.Intn(len(values))]
	} else {
		var b strings.Builder
		for l := rng.Intn(6); l > 0; l-- {
			b.WriteString(alphabet[rng.Intn(len(alphabet))])
		}
		value = b.String()
	}
	styles := []kyaml.Style{0, 0, 0, kyaml.DoubleQuotedStyle, kyaml.SingleQuotedStyle, kyaml.LiteralStyle, kyaml.FoldedStyle, kyaml.TaggedStyle}
	return &kyaml.Node{Kind: kyaml.ScalarNode, Tag: tag, Value: value, Style: styles[rng.Intn(len(styles))]}
}

// Where nodeValue is sure, it is the value MarshalJSON's round trip gives.
func TestNodeValueIsTheMarshalledValue(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	sure := 0
	for round := 0; round < 60000; round++ {
		root := &kyaml.Node{Kind: kyaml.MappingNode}
		for i := 1 + rng.Intn(4); i > 0; i-- {
			root.Content = append(root.Content, randomScalar(rng, ""), randomNode(rng, 3))
		}
		fast, ok := nodeValue(root, false)
		slow, err := marshalledValue(kyaml.NewRNode(root))
		if !ok {
			continue
		}
		sure++
		if err != nil {
			t.Fatalf("nodeValue sure of %s, MarshalJSON failed: %v", nodeText(t, root), err)
		}
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("node:\n%s\nnodeValue %#v\nMarshalJSON %#v", nodeText(t, root), fast, slow)
		}
	}
	if sure < 2500 {
		t.Fatalf("nodeValue was sure of only %d of 60000 nodes", sure)
	}
	if testing.Verbose() {
		t.Logf("sure of %d of 60000", sure)
	}
}

// The usual resource is read the direct way, all of it.
func TestNodeValueIsSureOfUsualResources(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: ns, labels: {app: d}, annotations: {"a/b": "true"}}
spec:
  replicas: 2
  paused: false
  template:
    spec:
      containers:
        - name: c
          image: nginx:1.27
          env: [{name: A, value: "1"}, {name: B, value: "on"}, {name: C}]
          args: ["--x=1", "-v", "2"]
          resources: {}
          command:
      volumes: []
`
	m := buildOne(t, doc, "resources: [r.yaml]\nnamespace: other\nlabels: [{pairs: {team: x}}]\n")
	for _, res := range m.Resources() {
		if _, ok := nodeValue(res.YNode(), false); !ok {
			t.Fatalf("unsure of %s", nodeText(t, res.YNode()))
		}
	}
}

func nodeText(t *testing.T, n *kyaml.Node) string {
	t.Helper()
	text, err := kyaml.String(n)
	if err != nil {
		return fmt.Sprintf("(cannot write: %v) %#v", err, n)
	}
	return text
}

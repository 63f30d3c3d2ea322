// Command flux-local-kustomize-worker is flux-local's long-lived kustomize: it
// runs the upstream kustomize build (sigs.k8s.io/kustomize/api krusty, the
// version of the kustomize binary flux-local installs) for one request after
// another, so kustomize's start-up costs (the built-in OpenAPI schema above
// all) are paid once per process instead of once per build.
//
// Protocol: one JSON object per line (newline-framed JSON; JSON strings never
// hold a raw newline). After start-up the worker writes
//
//	{"ready":true,"kustomize":"v5.7.1","protocol":2}
//
// (protocol 2: requests may carry a kustomization; a worker without
// "protocol" knows only protocol 1, plain builds of DIR)
// then for each request line {"id":1,"dir":"/abs/dir"} (optionally
// "rootOnly":true for kustomize's default load restrictor) it answers one line,
// {"id":1,"yaml":"..."} or {"id":1,"error":"..."}, in order. A request
// with "root" and "kustomization" builds DIR as if its kustomization file
// were that text (the Flux spec applied), in a read-only view of the disk that
// holds flux-local's build mirror in memory (overlay.go): "reach" lists the
// entries of DIR's ancestors the kustomization reaches with "..", "reachAll"
// links them all. Nothing is written to disk; error text names real paths. With
// "objects":true the answer is {"id":1,"objects":[...]} instead of "yaml": the
// documents' objects as JSON, exactly as flux-local's YAML reader reads that
// YAML (objects.go), or "yaml" still when JSON cannot say it exactly. The build is
// `kustomize build DIR --load-restrictor LoadRestrictionsNone` exactly:
// plugins disabled, no helm, sort order from the kustomization. Anything
// kustomize logs goes to stderr; stdout carries only the protocol. The worker
// exits when stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/provenance"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

type request struct {
	ID  int64  `json:"id"`
	Dir string `json:"dir"`
	// RootOnly keeps kustomize's default load restrictor (LoadRestrictionsRootOnly);
	// Flux builds, the default here, use LoadRestrictionsNone.
	RootOnly bool `json:"rootOnly,omitempty"`
	// Objects asks for the output as JSON objects when they say it exactly.
	Objects bool `json:"objects,omitempty"`
	// Root and Kustomization (protocol 2): build Dir with its kustomization
	// file replaced by this text, seeing only what the build mirror shows
	// inside Root (a real path, as Dir); Reach and ReachAll: which entries of
	// Dir's ancestors it shows (overlay.go).
	Root          string   `json:"root,omitempty"`
	Kustomization *string  `json:"kustomization,omitempty"`
	Reach         []string `json:"reach,omitempty"`
	ReachAll      bool     `json:"reachAll,omitempty"`
}

type response struct {
	ID    int64  `json:"id"`
	YAML  string `json:"yaml,omitempty"`
	Error string `json:"error,omitempty"`
}

type hello struct {
	Ready     bool   `json:"ready"`
	Kustomize string `json:"kustomize"`
	Protocol  int    `json:"protocol"`
}

// protocolVersion 2: requests may carry the kustomization (overlay.go).
const protocolVersion = 2

// options are those of `kustomize build --load-restrictor LoadRestrictionsNone`
// without any other flag (see kustomize/commands/build.HonorKustomizeFlags).
func options(rootOnly bool) *krusty.Options {
	o := krusty.MakeDefaultOptions()
	o.Reorder = krusty.ReorderOptionUnspecified
	o.LoadRestrictions = types.LoadRestrictionsNone
	if rootOnly {
		o.LoadRestrictions = types.LoadRestrictionsRootOnly
	}
	o.PluginConfig = types.DisabledPluginConfig()
	o.PluginConfig.HelmConfig.Enabled = false
	o.PluginConfig.HelmConfig.Command = "helm"
	o.AddManagedbyLabel = false
	return o
}

func build(fSys filesys.FileSystem, dir string, rootOnly bool) (m resmap.ResMap, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize panicked while building %s: %v\n%s", dir, r, debug.Stack())
		}
	}()
	return krusty.MakeKustomizer(options(rootOnly)).Run(fSys, dir)
}

// respond builds dir: its objects as one JSON array when they are wanted and
// JSON says them exactly (straight from the resources, else read back from
// the YAML text; objects.go), otherwise kustomize's YAML text.
func respond(fSys filesys.FileSystem, dir string, rootOnly, wanted bool) (objects []byte, text string, err error) {
	m, err := build(fSys, dir, rootOnly)
	if err != nil {
		return nil, "", err
	}
	if wanted {
		if objects, ok := resourcesJSON(m); ok {
			return objects, "", nil
		}
	}
	out, err := asYAML(m)
	if err != nil {
		return nil, "", err
	}
	if objects, ok := asObjects(wanted, out); ok {
		return objects, "", nil
	}
	return nil, string(out), nil
}

// asYAML is kustomize's output text (what `kustomize build` prints).
func asYAML(m resmap.ResMap) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("kustomize panicked while writing its output: %v\n%s", r, debug.Stack())
		}
	}()
	return m.AsYaml()
}

// overlayPaths checks a kustomization request's root and dir: absolute and
// clean, dir inside root (flux-local sends their real paths).
func overlayPaths(root, dir string) bool {
	return filepath.IsAbs(root) && filepath.IsAbs(dir) && filepath.Clean(root) == root &&
		filepath.Clean(dir) == dir && within(root, dir)
}

// gcSettings trades some memory for less garbage-collection work: a build
// allocates much and keeps little, and the collector's default pace (GOGC=100)
// spent about a third of the worker's CPU. The soft memory limit keeps the heap
// bounded all the same. GOGC and GOMEMLIMIT, when set, win.
func gcSettings() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

// schedulerSettings runs Go code on one thread at a time (GOMAXPROCS=1)
// unless GOMAXPROCS says otherwise. A worker serves one build at a time and a
// build is serial; flux-local starts one worker per concurrent build, so the
// parallelism is across workers. With the default (one P per core) every
// worker on an N-core machine runs N Ps plus parallel GC workers, all waking
// and parking each other: measured on a cold home-ops-shaped run with two
// workers on two cores, GOMAXPROCS=1 took wall 3.25 s -> 2.7 s and system time
// 1.3 s -> 0.93 s (futex and scheduler churn gone). The garbage collector
// still runs, on the same thread, between the build's own work.
func schedulerSettings() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

// warmSchema parses kustomize's built-in OpenAPI schema now, before the
// worker says it is ready, rather than in its first build: flux-local starts
// its workers when a run begins, so this (~90 ms of CPU) overlaps the run's
// discovery instead of delaying the first build. Every build that applies a
// strategic-merge patch or meets a kind it does not know parses it anyway,
// and the builds after the first always saw it parsed; no build sees a state
// it could not see before. Not in a goroutine: kustomize reads some of what
// the parse writes without its lock.
func warmSchema() {
	openapi.Schema()
}

func main() {
	schedulerSettings()
	gcSettings()
	// Only the protocol may reach the real stdout: anything else that prints
	// (kustomize's warnings, a stray fmt.Printf) goes to stderr.
	protocol := bufio.NewWriter(os.Stdout)
	os.Stdout = os.Stderr

	enc := json.NewEncoder(protocol)
	enc.SetEscapeHTML(false)
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "flux-local-kustomize-worker: cannot write: %v\n", err)
		os.Exit(2)
	}
	send := func(v any) {
		if err := enc.Encode(v); err != nil {
			fail(err)
		}
		if err := protocol.Flush(); err != nil {
			fail(err)
		}
	}
	// {"id":N,"objects":[...]}: the array is already JSON, written as it is.
	sendObjects := func(id int64, objects []byte) {
		fmt.Fprintf(protocol, `{"id":%d,"objects":`, id)
		protocol.Write(objects)
		protocol.WriteString("}\n")
		if err := protocol.Flush(); err != nil {
			fail(err)
		}
	}

	fSys := filesys.MakeFsOnDisk()
	// Where builds from a kustomization in the request see their mirror
	// (overlay.go): a path that exists nowhere, unlike any path kustomize reads.
	mirror := filepath.Join(os.TempDir(), fmt.Sprintf("flux-local-kustomize-view-%d", os.Getpid()))
	defaultSchema := openapi.GetSchemaVersion()
	warmSchema()
	send(hello{Ready: true, Kustomize: provenance.GetProvenance().Semver(), Protocol: protocolVersion})

	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, readErr := in.ReadBytes('\n')
		if len(line) > 0 {
			var req request
			if err := json.Unmarshal(line, &req); err != nil {
				send(response{ID: req.ID, Error: fmt.Sprintf("flux-local-kustomize-worker: malformed request: %v", err)})
			} else if req.Dir == "" {
				send(response{ID: req.ID, Error: "flux-local-kustomize-worker: request without dir"})
			} else if req.Kustomization != nil && !overlayPaths(req.Root, req.Dir) {
				send(response{ID: req.ID, Error: fmt.Sprintf("flux-local-kustomize-worker: dir %s is not an absolute, clean path inside root %s", req.Dir, req.Root)})
			} else {
				var view filesys.FileSystem = fSys
				dir, mapped := req.Dir, func(text string) string { return text }
				if req.Kustomization != nil {
					overlay := newOverlayFS(fSys, mirror, req.Root, req.Dir, *req.Kustomization, req.Reach, req.ReachAll)
					view, dir = overlay, overlay.Top()
					// Error text names the mirror's paths: they stand for the root's.
					mapped = func(text string) string { return strings.ReplaceAll(text, mirror, req.Root) }
				}
				objects, text, err := respond(view, dir, req.RootOnly, req.Objects)
				switch {
				case err != nil:
					send(response{ID: req.ID, Error: mapped(err.Error())})
				case objects != nil:
					sendObjects(req.ID, objects)
				default:
					send(response{ID: req.ID, YAML: text})
				}
				// A kustomization's `openapi` field swaps kustomize's
				// process-wide schema; the next build must start from the
				// built-in one, as a fresh kustomize process would.
				if openapi.GetSchemaVersion() != defaultSchema {
					openapi.ResetOpenAPI()
				}
			}
		}
		if readErr == io.EOF {
			return
		}
		if readErr != nil {
			fmt.Fprintf(os.Stderr, "flux-local-kustomize-worker: cannot read: %v\n", readErr)
			os.Exit(2)
		}
	}
}

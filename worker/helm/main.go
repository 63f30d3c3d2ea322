// Command flux-local-helm-worker is flux-local's long-lived helm: it runs
// `helm template` (helm's own command, helm.sh/helm/v4/pkg/cmd, of the release
// flux-local installs) for one request after another, so helm's start-up (a
// ~80 MB binary to load, the Kubernetes client packages to initialise) is
// paid once per process instead of once per release.
//
// Protocol: one JSON object per line (JSON strings never hold a raw newline).
// After start-up the worker writes
//
//	{"ready":true,"helm":"v4.2.4","protocol":1}
//
// then for each request line {"id":1,"args":["template",...]} it answers one
// line, {"id":1,"stdout":"..."} or {"id":1,"error":"..."}, in order. The
// arguments are those after `helm` on a command line and must name the
// template command; the answer is what that command prints on stdout, or the
// error helm would print after "Error: ". Every request runs in a fresh helm
// command over fresh settings, read from the environment the worker was
// started with, as a new helm process would. Anything helm logs goes to
// stderr; stdout carries only the protocol. The worker exits when stdin
// closes.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"
	_ "unsafe" // go:linkname, to reset helm's and cobra's process-wide state

	"helm.sh/helm/v4/pkg/cli"
	helmcmd "helm.sh/helm/v4/pkg/cmd"
	"helm.sh/helm/v4/pkg/kube"
)

// helmSettings is helm's process-wide settings (pkg/cmd's `settings`), made
// once per process from the environment and then changed by each command
// line's flags. Each request starts from a fresh copy, so no flag of one
// request carries over to the next.
//
//go:linkname helmSettings helm.sh/helm/v4/pkg/cmd.settings
var helmSettings *cli.EnvSettings

// cobraInitializers is cobra's list of cobra.OnInitialize functions, run
// before every command. helm's NewRootCmd adds one each time it is called;
// each request removes the one its command added, or the list would grow by
// one per request and every request would run all the earlier ones.
//
//go:linkname cobraInitializers github.com/spf13/cobra.initializers
var cobraInitializers []func()

type request struct {
	ID   int64    `json:"id"`
	Args []string `json:"args"`
}

type response struct {
	ID     int64  `json:"id"`
	Stdout string `json:"stdout,omitempty"`
	Error  string `json:"error,omitempty"`
}

type hello struct {
	Ready    bool   `json:"ready"`
	Helm     string `json:"helm"`
	Protocol int    `json:"protocol"`
}

const protocolVersion = 1

// helmRelease is the version of the helm module this worker is built from.
func helmRelease() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range info.Deps {
			if dep.Path == "helm.sh/helm/v4" {
				return dep.Version
			}
		}
	}
	return "unknown"
}

// logSetup is helm's own (pkg/cmd.SetupLogging): its logger on stderr.
func logSetup(debugging bool) { helmcmd.SetupLogging(debugging) }

// template runs one helm command line and returns what it printed on stdout.
func template(args []string) (stdout string, err error) {
	if len(args) == 0 || args[0] != "template" {
		return "", fmt.Errorf("flux-local-helm-worker: only the template command is served, not %q", args)
	}
	initializers := len(cobraInitializers)
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("helm panicked: %v\n%s", r, debug.Stack())
		}
		cobraInitializers = cobraInitializers[:initializers]
		// helm's install registers SIGINT and SIGTERM handlers for each
		// release; the worker keeps the default (being stopped).
		signal.Reset(os.Interrupt, syscall.SIGTERM)
	}()
	helmSettings = cli.New()
	var out bytes.Buffer
	cmd, err := helmcmd.NewRootCmd(&out, args, logSetup)
	if err != nil {
		return "", err
	}
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	// The error is the answer's; the helm binary prints it as "Error: ...".
	cmd.SilenceErrors = true
	cmd.SetErr(os.Stderr)
	if err := cmd.Execute(); err != nil {
		return out.String(), err
	}
	return out.String(), nil
}

// gcSettings and schedulerSettings: as the kustomize worker's (../main.go),
// one request at a time on one thread, less collection work, a bounded heap.
func gcSettings() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(256 << 20)
	}
}

func schedulerSettings() {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

func main() {
	schedulerSettings()
	gcSettings()
	// As helm's main: the manager name helm gives the objects it applies.
	kube.ManagedFieldsManager = "helm"
	protocol := bufio.NewWriter(os.Stdout)
	// Only the protocol may reach the real stdout.
	os.Stdout = os.Stderr

	enc := json.NewEncoder(protocol)
	enc.SetEscapeHTML(false)
	send := func(v any) {
		if err := enc.Encode(v); err == nil {
			err = protocol.Flush()
			if err == nil {
				return
			}
		}
		fmt.Fprintln(os.Stderr, "flux-local-helm-worker: cannot write its answer")
		os.Exit(2)
	}
	send(hello{Ready: true, Helm: helmRelease(), Protocol: protocolVersion})

	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, readErr := in.ReadBytes('\n')
		if len(line) > 0 {
			var req request
			if err := json.Unmarshal(line, &req); err != nil {
				send(response{ID: req.ID, Error: fmt.Sprintf("flux-local-helm-worker: malformed request: %v", err)})
			} else if stdout, err := template(req.Args); err != nil {
				send(response{ID: req.ID, Error: err.Error()})
			} else {
				send(response{ID: req.ID, Stdout: stdout})
			}
		}
		if readErr == io.EOF {
			return
		}
		if readErr != nil {
			slog.Error("flux-local-helm-worker: cannot read", slog.Any("error", readErr))
			os.Exit(2)
		}
	}
}

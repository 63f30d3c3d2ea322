package main

// The file system a Flux build sees: the disk, read-only, with one folder's
// kustomization file replaced by the text flux-local generated (the Flux spec
// applied), served from memory. It stands in for the scratch "mirror" tree
// flux-local's Node side builds for a kustomize process (src/render/kustomize/
// mirror.ts): the same paths are visible, the same are not, and kustomize gets
// the same answers (error text included) — without creating, linking and
// removing a folder tree per build.
//
// What the mirror shows, and so what this shows, for a build of `dir` inside
// `root` (both real paths):
//   - dir itself and the folders from root down to it (the "chain");
//   - in dir: its entries, except its kustomization files (kustomization.yaml,
//     kustomization.yml, Kustomization), plus the generated kustomization.yaml;
//   - in each folder above dir: only the entries the kustomization reaches
//     with `..` (`reach`, computed on the Node side as for the mirror), or all
//     of them (`reachAll`, a reference to an ancestor itself);
//   - of those entries (dir's and the ancestors'), only the ones exposedInMirror
//     (src/render/kustomize/safety.ts) exposes: regular files, folders, and links
//     that resolve inside root to a regular file or folder. A link leaving the
//     root, a broken link, a device, FIFO or socket is not there at all;
//   - below an entry shown, and anywhere outside root, the disk as it is (in
//     the mirror those are reached through a link, into the real tree).
// Hidden paths answer as a missing path would, with the error text the disk
// gives for one (`lstat PATH: no such file or directory`, ...), so kustomize's
// messages are those of a build in the mirror with its scratch prefix mapped
// back to the root.
//
// One difference remains, where the mirror was unlike Flux anyway: in the
// mirror, a base that reaches back into dir through the real tree saw dir's
// own kustomization file and was no cycle to kustomize; here, as in
// kustomize-controller's build in place, it sees the generated one.

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"sigs.k8s.io/kustomize/kyaml/errors"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// kustomizationFileNames are the names kustomize looks for, as
// src/render/kustomize/files.ts KUSTOMIZATION_FILE_NAMES.
var kustomizationFileNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// generatedName is the file the generated kustomization is served as.
const generatedName = "kustomization.yaml"

type overlayFS struct {
	disk filesys.FileSystem
	root string // real, clean, absolute
	dir  string // real, clean, absolute, inside root
	// The generated kustomization file (dir/kustomization.yaml) and its text.
	kfile   string
	content []byte
	// Entries of dir's ancestors the build may see (real paths), or all of them.
	reach    map[string]bool
	reachAll bool
	// exposed memoizes exposedInMirror per entry, for one build.
	exposed map[string]bool
	started time.Time
}

var _ filesys.FileSystem = (*overlayFS)(nil)

func newOverlayFS(disk filesys.FileSystem, root, dir, kustomization string, reach []string, reachAll bool) *overlayFS {
	o := &overlayFS{
		disk:     disk,
		root:     filepath.Clean(root),
		dir:      filepath.Clean(dir),
		content:  []byte(kustomization),
		reach:    make(map[string]bool, len(reach)),
		reachAll: reachAll,
		exposed:  make(map[string]bool),
		started:  time.Now(),
	}
	o.kfile = filepath.Join(o.dir, generatedName)
	for _, p := range reach {
		o.reach[filepath.Clean(p)] = true
	}
	return o
}

// within is true when p is base or below it (both clean).
func within(base, p string) bool {
	if p == base {
		return true
	}
	if base == string(filepath.Separator) {
		return strings.HasPrefix(p, base)
	}
	return strings.HasPrefix(p, base+string(filepath.Separator))
}

// What a path is in the view.
type viewKind int

const (
	viewDisk      viewKind = iota // as on disk
	viewGenerated                 // the generated kustomization file
	viewBelowFile                 // a path through the generated file (not a folder)
	viewHidden                    // not there
)

// view says what the clean absolute path p is; for a hidden path, `at` is the
// hidden entry p goes through (where a walk of the path first finds nothing).
func (o *overlayFS) view(p string) (kind viewKind, at string) {
	if p == o.kfile {
		return viewGenerated, ""
	}
	if !within(o.root, p) || within(p, o.dir) {
		return viewDisk, "" // outside the root, or a folder of the chain
	}
	// The first entry on the way down from the root that is off the chain,
	// and the chain folder holding it (p is off the chain: there is one).
	parent := o.root
	rest := strings.TrimPrefix(p[len(o.root):], string(filepath.Separator))
	for {
		name, tail, _ := strings.Cut(rest, string(filepath.Separator))
		entry := filepath.Join(parent, name)
		if within(entry, o.dir) {
			parent, rest = entry, tail
			continue
		}
		if parent == o.dir {
			if entry == o.kfile {
				return viewBelowFile, "" // p is below it (p == kfile was handled)
			}
			for _, other := range kustomizationFileNames {
				if name == other {
					return viewHidden, entry
				}
			}
		} else if !o.reachAll && !o.reach[entry] {
			return viewHidden, entry
		}
		if !o.isExposed(entry) {
			return viewHidden, entry
		}
		return viewDisk, ""
	}
}

// isExposed is exposedInMirror for an entry of a chain folder: regular files
// and folders are; a link is when it resolves inside the root to a regular
// file or folder; nothing else is. A missing entry answers "exposed": the disk
// then says it is missing, as it would in the mirror.
func (o *overlayFS) isExposed(entry string) bool {
	if known, ok := o.exposed[entry]; ok {
		return known
	}
	exposed := func() bool {
		info, err := os.Lstat(entry)
		if err != nil {
			return true
		}
		mode := info.Mode()
		if mode.IsRegular() || mode.IsDir() {
			return true
		}
		if mode&fs.ModeSymlink == 0 {
			return false
		}
		real, err := filepath.EvalSymlinks(entry)
		if err != nil || !within(o.root, real) {
			return false
		}
		target, err := os.Stat(real)
		return err == nil && (target.Mode().IsRegular() || target.IsDir())
	}()
	o.exposed[entry] = exposed
	return exposed
}

func abs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	return a
}

func notThere(op, p string) error {
	return &fs.PathError{Op: op, Path: p, Err: syscall.ENOENT}
}

func readOnly(op, p string) error {
	return &fs.PathError{Op: op, Path: p, Err: syscall.EROFS}
}

// CleanedAbs is fsOnDisk's, with links resolved in the view: a path through a
// hidden entry fails as the missing entry it is in the mirror.
func (o *overlayFS) CleanedAbs(p string) (filesys.ConfirmedDir, string, error) {
	absolute, err := filepath.Abs(p)
	if err != nil {
		return "", "", fmt.Errorf("abs path error on '%s' : %v", p, err)
	}
	deLinked, err := o.evalSymlinks(absolute)
	if err != nil {
		return "", "", fmt.Errorf("evalsymlink failure on '%s' : %w", p, err)
	}
	if o.IsDir(deLinked) {
		return filesys.ConfirmedDir(deLinked), "", nil
	}
	d := filepath.Dir(deLinked)
	if !o.IsDir(d) || d == deLinked {
		// fsOnDisk stops the process here; a worker fails the one build.
		return "", "", fmt.Errorf("first part of '%s' not a directory", deLinked)
	}
	return filesys.ConfirmedDir(d), filepath.Base(deLinked), nil
}

// evalSymlinks is filepath.EvalSymlinks in the view. A shown path resolves as
// on disk: in the mirror it leads through a link into the real tree.
func (o *overlayFS) evalSymlinks(p string) (string, error) {
	switch kind, at := o.view(filepath.Clean(p)); kind {
	case viewGenerated:
		return filepath.Clean(p), nil
	case viewBelowFile:
		// What EvalSymlinks answers for a path through a regular file.
		return "", syscall.ENOTDIR
	case viewHidden:
		return "", &fs.PathError{Op: "lstat", Path: at, Err: syscall.ENOENT}
	}
	return filepath.EvalSymlinks(p)
}

func (o *overlayFS) Exists(p string) bool {
	switch kind, _ := o.view(abs(p)); kind {
	case viewGenerated:
		return true
	case viewDisk:
		return o.disk.Exists(p)
	}
	return false
}

func (o *overlayFS) IsDir(p string) bool {
	if kind, _ := o.view(abs(p)); kind != viewDisk {
		return false
	}
	return o.disk.IsDir(p)
}

func (o *overlayFS) ReadFile(p string) ([]byte, error) {
	switch kind, _ := o.view(abs(p)); kind {
	case viewGenerated:
		return bytes.Clone(o.content), nil
	case viewBelowFile:
		return nil, errors.Wrap(&fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR})
	case viewHidden:
		return nil, errors.Wrap(notThere("open", p))
	}
	return o.disk.ReadFile(p)
}

func (o *overlayFS) Open(p string) (filesys.File, error) {
	switch kind, _ := o.view(abs(p)); kind {
	case viewGenerated:
		return &memoryFile{Reader: bytes.NewReader(o.content), info: o.generatedInfo()}, nil
	case viewBelowFile:
		return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR}
	case viewHidden:
		return nil, notThere("open", p)
	}
	return o.disk.Open(p)
}

// ReadDir lists a folder as the view shows it (sorted by name, as os.ReadDir).
func (o *overlayFS) ReadDir(p string) ([]string, error) {
	clean := abs(p)
	switch kind, _ := o.view(clean); kind {
	case viewGenerated, viewBelowFile:
		return nil, &fs.PathError{Op: "open", Path: p, Err: syscall.ENOTDIR}
	case viewHidden:
		return nil, notThere("open", p)
	}
	names, err := o.disk.ReadDir(p)
	if err != nil || !within(o.root, clean) || !within(clean, o.dir) {
		return names, err
	}
	// A folder of the chain: only what the view shows.
	shown := names[:0]
	for _, name := range names {
		if kind, _ := o.view(filepath.Join(clean, name)); kind == viewDisk {
			shown = append(shown, name)
		}
	}
	if clean == o.dir {
		shown = append(shown, generatedName)
		sort.Strings(shown)
	}
	return shown, nil
}

// Glob is fsOnDisk's (hidden files left out unless the pattern names them),
// over the view.
func (o *overlayFS) Glob(pattern string) ([]string, error) {
	found, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	shown := found[:0]
	hasGenerated := false
	for _, p := range found {
		kind, _ := o.view(abs(p))
		if kind == viewDisk || kind == viewGenerated {
			shown = append(shown, p)
		}
		hasGenerated = hasGenerated || kind == viewGenerated
	}
	if !hasGenerated {
		// Not on disk, yet there in the view: where filepath.Glob would list
		// it, after the names before it in its folder.
		generated := filepath.Join(filepath.Dir(pattern), generatedName)
		if matched, _ := filepath.Match(pattern, generated); matched && abs(generated) == o.kfile {
			at := len(shown)
			for i, p := range shown {
				if filepath.Dir(p) == filepath.Dir(generated) && p > generated {
					at = i
					break
				}
			}
			shown = append(shown[:at], append([]string{generated}, shown[at:]...)...)
		}
	}
	if filesys.IsHiddenFilePath(pattern) {
		return shown, nil
	}
	return filesys.RemoveHiddenFiles(shown), nil
}

// lstat is os.Lstat in the view.
func (o *overlayFS) lstat(p string) (fs.FileInfo, error) {
	switch kind, _ := o.view(abs(p)); kind {
	case viewGenerated:
		return o.generatedInfo(), nil
	case viewBelowFile:
		return nil, &fs.PathError{Op: "lstat", Path: p, Err: syscall.ENOTDIR}
	case viewHidden:
		return nil, notThere("lstat", p)
	}
	return os.Lstat(p)
}

// Walk is filepath.Walk over the view: lexical order, links not followed.
func (o *overlayFS) Walk(p string, walkFn filepath.WalkFunc) error {
	info, err := o.lstat(p)
	if err != nil {
		err = walkFn(p, nil, err)
	} else {
		err = o.walk(p, info, walkFn)
	}
	if err == filepath.SkipDir || err == filepath.SkipAll {
		return nil
	}
	return err
}

func (o *overlayFS) walk(p string, info fs.FileInfo, walkFn filepath.WalkFunc) error {
	if !info.IsDir() {
		return walkFn(p, info, nil)
	}
	names, err := o.ReadDir(p)
	if stop := walkFn(p, info, err); err != nil || stop != nil {
		return stop
	}
	for _, name := range names {
		child := filepath.Join(p, name)
		childInfo, err := o.lstat(child)
		if err != nil {
			if stop := walkFn(child, childInfo, err); stop != nil && stop != filepath.SkipDir {
				return stop
			}
			continue
		}
		if err := o.walk(child, childInfo, walkFn); err != nil {
			if !childInfo.IsDir() || err != filepath.SkipDir {
				return err
			}
		}
	}
	return nil
}

// Nothing is written: a build that tries fails, naming the path.
func (o *overlayFS) Create(p string) (filesys.File, error) { return nil, readOnly("open", p) }
func (o *overlayFS) Mkdir(p string) error                  { return readOnly("mkdir", p) }
func (o *overlayFS) MkdirAll(p string) error               { return readOnly("mkdir", p) }
func (o *overlayFS) RemoveAll(p string) error              { return readOnly("unlinkat", p) }
func (o *overlayFS) WriteFile(p string, _ []byte) error {
	return errors.Wrap(readOnly("open", p))
}

func (o *overlayFS) generatedInfo() fs.FileInfo {
	return generatedFileInfo{size: int64(len(o.content)), modTime: o.started}
}

type generatedFileInfo struct {
	size    int64
	modTime time.Time
}

func (i generatedFileInfo) Name() string       { return generatedName }
func (i generatedFileInfo) Size() int64        { return i.size }
func (i generatedFileInfo) Mode() fs.FileMode  { return 0o644 }
func (i generatedFileInfo) ModTime() time.Time { return i.modTime }
func (i generatedFileInfo) IsDir() bool        { return false }
func (i generatedFileInfo) Sys() any           { return nil }

// memoryFile is the generated kustomization opened: read-only.
type memoryFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *memoryFile) Write([]byte) (int, error) {
	return 0, &fs.PathError{Op: "write", Path: f.info.Name(), Err: syscall.EBADF}
}
func (f *memoryFile) Close() error               { return nil }
func (f *memoryFile) Stat() (os.FileInfo, error) { return f.info, nil }

var _ io.ReadWriteCloser = (*memoryFile)(nil)

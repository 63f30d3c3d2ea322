package main

// The file system of a Flux build: the disk, read-only, plus the build mirror
// flux-local's Node side makes for a kustomize process (src/render/kustomize/
// mirror.ts) — held in memory instead of made of folders and links on disk.
// The mirror is a tree at a path that exists nowhere (`mirror`, standing for
// the source root): kustomize builds the mirrored folder there and sees
// exactly what it sees in the mirror on disk, error text included, without a
// folder created, linked or removed per build.
//
// The mirror of a build of `dir` inside `root` (both real paths) holds:
//   - the folders from root down to dir (the "chain"), as folders;
//   - in dir: a link to each entry, except its kustomization files
//     (kustomization.yaml, kustomization.yml, Kustomization), and the generated
//     kustomization.yaml (served from memory);
//   - in each folder above dir: links to only the entries the kustomization
//     reaches with `..` (`reach`, computed on the Node side as for the
//     mirror), or to all of them (`reachAll`: a reference to an ancestor);
//   - links only to entries exposedInMirror (src/render/kustomize/safety.ts)
//     exposes: regular files, folders, and links that resolve inside root to a
//     regular file or folder. A link leaving the root, a broken link, a device,
//     FIFO or socket is not there at all: missing to kustomize.
// A link leads to the real entry (root/the same relative path): what kustomize
// reaches through it, and every base or component it loads from there, is the
// real tree on disk, as with the mirror. Paths outside the mirror are the disk.
// Every answer about the mirror is the one the disk gives for the mirror on
// disk (`lstat PATH: no such file or directory`, `read PATH: is a directory`),
// naming mirror paths; the worker maps the mirror's path back to root in the
// error text, as the Node side maps a scratch mirror's.

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

const sep = string(filepath.Separator)

type overlayFS struct {
	disk filesys.FileSystem
	// The mirror's path (exists nowhere) and the source root it stands for.
	mirror string
	root   string // real, clean, absolute
	dir    string // real, clean, absolute, inside root
	// The generated kustomization's mirror path and text.
	kfile   string
	content []byte
	// Entries of dir's ancestors the mirror links (real paths), or all of them.
	reach    map[string]bool
	reachAll bool
	// exposed memoizes exposedInMirror per entry, for one build.
	exposed map[string]bool
	started time.Time
}

var _ filesys.FileSystem = (*overlayFS)(nil)

// newOverlayFS is the disk plus the mirror, at `mirror`, of a build of `dir`
// in `root` whose kustomization is `kustomization`.
func newOverlayFS(disk filesys.FileSystem, mirror, root, dir, kustomization string, reach []string, reachAll bool) *overlayFS {
	o := &overlayFS{
		disk:     disk,
		mirror:   filepath.Clean(mirror),
		root:     filepath.Clean(root),
		dir:      filepath.Clean(dir),
		content:  []byte(kustomization),
		reach:    make(map[string]bool, len(reach)),
		reachAll: reachAll,
		exposed:  make(map[string]bool),
		started:  time.Now(),
	}
	o.kfile = filepath.Join(o.mirrored(o.dir), generatedName)
	for _, p := range reach {
		o.reach[filepath.Clean(p)] = true
	}
	return o
}

// mirrored is the mirror path of a real path inside root.
func (o *overlayFS) mirrored(real string) string {
	return o.mirror + real[len(o.root):]
}

// Top is the mirror path of dir: what kustomize builds.
func (o *overlayFS) Top() string { return o.mirrored(o.dir) }

// within is true when p is base or below it (both clean).
func within(base, p string) bool {
	if p == base {
		return true
	}
	if base == sep {
		return strings.HasPrefix(p, base)
	}
	return strings.HasPrefix(p, base+sep)
}

// What a path is.
type viewKind int

const (
	onDisk    viewKind = iota // outside the mirror
	folder                    // a folder of the chain, in the mirror
	generated                 // the generated kustomization file
	belowFile                 // a path through the generated file (not a folder)
	hidden                    // in the mirror, not there
	linked                    // through a link of the mirror (to `real`)
)

type view struct {
	kind viewKind
	// real: the real path it stands for (onDisk, folder, linked).
	real string
	// at: the mirror path where nothing is (hidden).
	at string
	// entry: the path is a link of the mirror itself (linked).
	entry bool
}

// see says what the clean absolute path p is.
func (o *overlayFS) see(p string) view {
	if !within(o.mirror, p) {
		return view{kind: onDisk, real: p}
	}
	if p == o.kfile {
		return view{kind: generated}
	}
	real := o.root + p[len(o.mirror):]
	if within(real, o.dir) {
		return view{kind: folder, real: real}
	}
	// The first entry on the way down from the root that is off the chain,
	// and the chain folder holding it (real is off the chain: there is one).
	parent := o.root
	rest := strings.TrimPrefix(real[len(o.root):], sep)
	for {
		name, tail, _ := strings.Cut(rest, sep)
		entry := filepath.Join(parent, name)
		if within(entry, o.dir) {
			parent, rest = entry, tail
			continue
		}
		at := o.mirrored(entry)
		if parent == o.dir {
			if at == o.kfile {
				return view{kind: belowFile} // p is below it (p == kfile was handled)
			}
			for _, other := range kustomizationFileNames {
				if name == other {
					return view{kind: hidden, at: at}
				}
			}
		} else if !o.reachAll && !o.reach[entry] {
			return view{kind: hidden, at: at}
		}
		if !o.isExposed(entry) {
			return view{kind: hidden, at: at}
		}
		return view{kind: linked, real: real, entry: entry == real}
	}
}

// isExposed is exposedInMirror for an entry of a chain folder: regular files
// and folders are; a link is when it resolves inside the root to a regular
// file or folder; nothing else is, nor a missing entry.
func (o *overlayFS) isExposed(entry string) bool {
	if known, ok := o.exposed[entry]; ok {
		return known
	}
	exposed := func() bool {
		info, err := os.Lstat(entry)
		if err != nil {
			return false
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

func (o *overlayFS) seeAbs(p string) view {
	a, err := filepath.Abs(p)
	if err != nil {
		a = filepath.Clean(p)
	}
	return o.see(a)
}

func pathError(op, p string, errno syscall.Errno) error {
	return &fs.PathError{Op: op, Path: p, Err: errno}
}

// CleanedAbs is fsOnDisk's, in the mirror.
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

// evalSymlinks is filepath.EvalSymlinks in the mirror: its folders and the
// generated file are no links; a path through a link goes on from the real
// entry, as the link's target.
func (o *overlayFS) evalSymlinks(p string) (string, error) {
	switch v := o.see(filepath.Clean(p)); v.kind {
	case folder, generated:
		return filepath.Clean(p), nil
	case belowFile:
		// What EvalSymlinks answers for a path through a regular file.
		return "", syscall.ENOTDIR
	case hidden:
		return "", pathError("lstat", v.at, syscall.ENOENT)
	default:
		return filepath.EvalSymlinks(v.real)
	}
}

func (o *overlayFS) Exists(p string) bool {
	switch v := o.seeAbs(p); v.kind {
	case folder, generated:
		return true
	case onDisk, linked:
		return o.disk.Exists(v.real)
	}
	return false
}

func (o *overlayFS) IsDir(p string) bool {
	switch v := o.seeAbs(p); v.kind {
	case folder:
		return true
	case onDisk, linked:
		return o.disk.IsDir(v.real)
	}
	return false
}

func (o *overlayFS) ReadFile(p string) ([]byte, error) {
	switch v := o.seeAbs(p); v.kind {
	case generated:
		return bytes.Clone(o.content), nil
	case folder:
		return nil, errors.Wrap(pathError("read", p, syscall.EISDIR))
	case belowFile:
		return nil, errors.Wrap(pathError("open", p, syscall.ENOTDIR))
	case hidden:
		return nil, errors.Wrap(pathError("open", p, syscall.ENOENT))
	default:
		// The real path is the mirror path with the root for the mirror:
		// the disk's error text names it as the mapped mirror path would.
		return o.disk.ReadFile(v.real)
	}
}

func (o *overlayFS) Open(p string) (filesys.File, error) {
	switch v := o.seeAbs(p); v.kind {
	case generated:
		return &memoryFile{Reader: bytes.NewReader(o.content), info: o.generatedInfo()}, nil
	case folder, onDisk, linked:
		return o.disk.Open(v.real)
	case belowFile:
		return nil, pathError("open", p, syscall.ENOTDIR)
	default:
		return nil, pathError("open", p, syscall.ENOENT)
	}
}

// ReadDir lists a folder (sorted by name, as os.ReadDir).
func (o *overlayFS) ReadDir(p string) ([]string, error) {
	v := o.seeAbs(p)
	switch v.kind {
	case generated, belowFile:
		return nil, pathError("open", p, syscall.ENOTDIR)
	case hidden:
		return nil, pathError("open", p, syscall.ENOENT)
	case onDisk, linked:
		return o.disk.ReadDir(v.real)
	}
	names, err := o.disk.ReadDir(v.real)
	if err != nil {
		return nil, err
	}
	shown := names[:0]
	folderPath := o.mirrored(v.real)
	for _, name := range names {
		if k := o.see(filepath.Join(folderPath, name)).kind; k == folder || k == linked {
			shown = append(shown, name)
		}
	}
	if v.real == o.dir {
		shown = append(shown, generatedName)
		sort.Strings(shown)
	}
	return shown, nil
}

// Glob is fsOnDisk's (hidden files left out unless the pattern names them);
// a pattern in the mirror is matched against the real tree, then the mirror.
func (o *overlayFS) Glob(pattern string) ([]string, error) {
	absPattern, err := filepath.Abs(pattern)
	if err != nil || !within(o.mirror, absPattern) {
		return o.disk.Glob(pattern)
	}
	found, err := filepath.Glob(o.root + absPattern[len(o.mirror):])
	if err != nil {
		return nil, err
	}
	var shown []string
	for _, real := range found {
		p := o.mirrored(real)
		if k := o.see(p).kind; k == folder || k == linked || k == generated {
			shown = append(shown, p)
		}
	}
	if matched, _ := filepath.Match(absPattern, o.kfile); matched {
		shown = append(shown, o.kfile)
		sort.Strings(shown)
		shown = uniq(shown)
	}
	if filesys.IsHiddenFilePath(pattern) {
		return shown, nil
	}
	return filesys.RemoveHiddenFiles(shown), nil
}

func uniq(sorted []string) []string {
	out := sorted[:0]
	for i, s := range sorted {
		if i == 0 || s != sorted[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// lstat is os.Lstat in the mirror.
func (o *overlayFS) lstat(p string) (fs.FileInfo, error) {
	switch v := o.seeAbs(p); v.kind {
	case generated:
		return o.generatedInfo(), nil
	case belowFile:
		return nil, pathError("lstat", p, syscall.ENOTDIR)
	case hidden:
		return nil, pathError("lstat", p, syscall.ENOENT)
	case linked:
		if v.entry {
			return memoryInfo{name: filepath.Base(p), mode: fs.ModeSymlink | 0o777, modTime: o.started}, nil
		}
		return os.Lstat(v.real)
	default:
		return os.Lstat(v.real)
	}
}

// Walk is filepath.Walk in the mirror: lexical order, links not followed.
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
func (o *overlayFS) Create(p string) (filesys.File, error) {
	return nil, pathError("open", p, syscall.EROFS)
}
func (o *overlayFS) Mkdir(p string) error     { return pathError("mkdir", p, syscall.EROFS) }
func (o *overlayFS) MkdirAll(p string) error  { return pathError("mkdir", p, syscall.EROFS) }
func (o *overlayFS) RemoveAll(p string) error { return pathError("unlinkat", p, syscall.EROFS) }
func (o *overlayFS) WriteFile(p string, _ []byte) error {
	return errors.Wrap(pathError("open", p, syscall.EROFS))
}

func (o *overlayFS) generatedInfo() fs.FileInfo {
	return memoryInfo{name: generatedName, size: int64(len(o.content)), mode: 0o644, modTime: o.started}
}

// memoryInfo describes what the mirror holds in memory.
type memoryInfo struct {
	name    string
	size    int64
	mode    fs.FileMode
	modTime time.Time
}

func (i memoryInfo) Name() string       { return i.name }
func (i memoryInfo) Size() int64        { return i.size }
func (i memoryInfo) Mode() fs.FileMode  { return i.mode }
func (i memoryInfo) ModTime() time.Time { return i.modTime }
func (i memoryInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memoryInfo) Sys() any           { return nil }

// memoryFile is the generated kustomization opened: read-only.
type memoryFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *memoryFile) Write([]byte) (int, error) {
	return 0, pathError("write", f.info.Name(), syscall.EBADF)
}
func (f *memoryFile) Close() error               { return nil }
func (f *memoryFile) Stat() (os.FileInfo, error) { return f.info, nil }

var _ io.ReadWriteCloser = (*memoryFile)(nil)

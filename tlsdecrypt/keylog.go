package tlsdecrypt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Secrets are the logged secrets of one TLS connection, keyed by its client
// random. A nil slice means the label was not logged.
type Secrets struct {
	// Master is the TLS 1.2 (and earlier) master secret (CLIENT_RANDOM).
	Master []byte
	// ClientEarly is CLIENT_EARLY_TRAFFIC_SECRET (TLS 1.3 0-RTT).
	ClientEarly []byte
	// ClientHandshake and ServerHandshake are the TLS 1.3 handshake traffic
	// secrets.
	ClientHandshake, ServerHandshake []byte
	// ClientTraffic0 and ServerTraffic0 are the first TLS 1.3 application
	// traffic secrets.
	ClientTraffic0, ServerTraffic0 []byte
	// Exporter and EarlyExporter are logged by some stacks; they are kept but
	// not needed for decryption.
	Exporter, EarlyExporter []byte
}

// label names the NSS key log labels this package knows.
var labels = map[string]func(*Secrets) *[]byte{
	"CLIENT_RANDOM":                   func(s *Secrets) *[]byte { return &s.Master },
	"CLIENT_EARLY_TRAFFIC_SECRET":     func(s *Secrets) *[]byte { return &s.ClientEarly },
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET": func(s *Secrets) *[]byte { return &s.ClientHandshake },
	"SERVER_HANDSHAKE_TRAFFIC_SECRET": func(s *Secrets) *[]byte { return &s.ServerHandshake },
	"CLIENT_TRAFFIC_SECRET_0":         func(s *Secrets) *[]byte { return &s.ClientTraffic0 },
	"SERVER_TRAFFIC_SECRET_0":         func(s *Secrets) *[]byte { return &s.ServerTraffic0 },
	"EXPORTER_SECRET":                 func(s *Secrets) *[]byte { return &s.Exporter },
	"EARLY_EXPORTER_SECRET":           func(s *Secrets) *[]byte { return &s.EarlyExporter },
}

// KeyLog holds the secrets of an NSS key log (the SSLKEYLOGFILE format),
// merged from any number of sources. It is safe for concurrent use: secrets
// may be added (a pcapng Decryption Secrets Block met while reading) while
// other goroutines look secrets up. The Secrets a Lookup returns are never
// changed afterwards; a later line for the same client random replaces them
// with a new copy.
type KeyLog struct {
	smu sync.RWMutex
	m   map[[32]byte]*Secrets // guarded by smu; the values are immutable

	mu  sync.Mutex
	res map[string][]byte // guarded by mu: TLS 1.2 session id or ticket -> master secret

	// The files read again as they grow (Follow), guarded by fmu; next is
	// the earliest time Refresh reads them again, every the least time
	// between two readings.
	fmu       sync.Mutex
	followed  []*followedFile
	next      time.Time
	every     time.Duration
	following atomic.Bool
}

// followedFile is a key log file Refresh reads again as it grows.
type followedFile struct {
	path string
	off  int64 // bytes parsed: up to the end of the last complete line
}

// refreshEvery is the least time between two readings of the followed
// files.
const refreshEvery = 5 * time.Millisecond

// maxRefresh bounds the bytes one reading of a followed file takes.
const maxRefresh = 16 << 20

// Follow reads the NSS key log file at path into k now and again whenever
// a session lacks secrets and the file grew since (Refresh), as a browser
// or server appends to its SSLKEYLOGFILE while a live capture runs. Only
// complete lines are read; malformed ones are skipped. The file need not
// exist yet. It returns an error when the file exists but cannot be read.
func (k *KeyLog) Follow(path string) error {
	k.fmu.Lock()
	f := &followedFile{path: path}
	k.followed = append(k.followed, f)
	k.every = refreshEvery
	err := f.read(k)
	k.fmu.Unlock()
	k.following.Store(true)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("key log: %w", err)
	}
	return nil
}

// Following reports whether k follows files (Follow): sessions then wait
// for secrets that are not there yet instead of giving up.
func (k *KeyLog) Following() bool { return k != nil && k.following.Load() }

// Refresh reads what was appended to the followed files since they were
// last read, at most once every few milliseconds. It is safe for
// concurrent use.
func (k *KeyLog) Refresh() {
	if !k.Following() {
		return
	}
	k.fmu.Lock()
	defer k.fmu.Unlock()
	now := time.Now()
	if now.Before(k.next) {
		return
	}
	k.next = now.Add(k.every)
	for _, f := range k.followed {
		_ = f.read(k) // (a file that went away may come back)
	}
}

// read parses the complete lines appended to f since its last reading.
func (f *followedFile) read(k *KeyLog) error {
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return err
	}
	if st.Size() < f.off {
		f.off = 0 // truncated or replaced: read it again
	}
	if st.Size() == f.off {
		return nil
	}
	b := make([]byte, min(st.Size()-f.off, maxRefresh))
	n, err := fh.ReadAt(b, f.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	b = b[:n]
	end := bytes.LastIndexByte(b, '\n') + 1
	if end == 0 && n == maxRefresh {
		end = n // one line longer than a reading: skip it
	}
	for line := range bytes.Lines(b[:end]) {
		_ = k.addLine(line) // a malformed line is skipped
	}
	f.off += int64(end)
	return nil
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog {
	return &KeyLog{m: map[[32]byte]*Secrets{}}
}

// Len returns how many client randoms have secrets.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.smu.RLock()
	defer k.smu.RUnlock()
	return len(k.m)
}

// Lookup returns the secrets logged for a client random.
func (k *KeyLog) Lookup(clientRandom [32]byte) (*Secrets, bool) {
	if k == nil {
		return nil, false
	}
	k.smu.RLock()
	defer k.smu.RUnlock()
	s, ok := k.m[clientRandom]
	return s, ok
}

// nssOrder lists the labels AppendNSS writes, in the order TLS stacks log
// them.
var nssOrder = [...]string{
	"CLIENT_RANDOM", "CLIENT_EARLY_TRAFFIC_SECRET", "EARLY_EXPORTER_SECRET",
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	"CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET",
}

// AppendNSS appends the key log lines of the secrets logged for
// clientRandom, in the NSS format Add reads, and returns b unchanged when
// there are none.
func (k *KeyLog) AppendNSS(b []byte, clientRandom [32]byte) []byte {
	s, ok := k.Lookup(clientRandom)
	if !ok {
		return b
	}
	return k.appendNSS(b, clientRandom, s)
}

// appendNSS appends the key log lines of secrets s of clientRandom.
func (*KeyLog) appendNSS(b []byte, clientRandom [32]byte, s *Secrets) []byte {
	for _, label := range nssOrder {
		v := *labels[label](s)
		if v == nil {
			continue
		}
		b = append(b, label...)
		b = append(b, ' ')
		b = hex.AppendEncode(b, clientRandom[:])
		b = append(b, ' ')
		b = hex.AppendEncode(b, v)
		b = append(b, '\n')
	}
	return b
}

// AddFile reads an NSS key log file into k.
func (k *KeyLog) AddFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	return k.Add(f, path)
}

// AddBytes parses key log text (for example a pcapng Decryption Secrets
// Block's secrets) into k; name identifies the source in errors.
func (k *KeyLog) AddBytes(b []byte, name string) error {
	return k.Add(bytes.NewReader(b), name)
}

// Add parses NSS key log lines from r into k; name identifies the source in
// errors. Blank lines, comments (#) and unknown labels are ignored; a line
// with a known label but malformed fields is an error naming its line number
// (lines before it are kept).
func (k *KeyLog) Add(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if err := k.addLine(sc.Bytes()); err != nil {
			return fmt.Errorf("key log %s: line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("key log %s: line %d: %w", name, line+1, err)
	}
	return nil
}

// addLine parses one key log line and stores its secret.
func (k *KeyLog) addLine(l []byte) error {
	l = bytes.TrimSpace(l)
	if len(l) == 0 || l[0] == '#' {
		return nil
	}
	f := bytes.Fields(l)
	field, ok := labels[string(f[0])]
	if !ok {
		return nil // RSA, unknown or future labels
	}
	if len(f) != 3 {
		return fmt.Errorf("%s needs 2 fields, got %d", f[0], len(f)-1)
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		return fmt.Errorf("%s: client random must be 64 hex digits, got %d", f[0], len(f[1]))
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		return fmt.Errorf("%s: client random: %w", f[0], err)
	}
	sec := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(sec, f[2]); err != nil || len(f[2])%2 != 0 {
		return fmt.Errorf("%s: secret is not hex", f[0])
	}
	if string(f[0]) == "CLIENT_RANDOM" {
		if len(sec) != 48 {
			return fmt.Errorf("CLIENT_RANDOM: master secret must be 48 bytes, got %d", len(sec))
		}
	} else if len(sec) != 32 && len(sec) != 48 {
		return fmt.Errorf("%s: secret must be 32 or 48 bytes, got %d", f[0], len(sec))
	}
	k.smu.Lock()
	defer k.smu.Unlock()
	if k.m == nil {
		k.m = map[[32]byte]*Secrets{}
	}
	// Copy on write: a session may hold the Secrets looked up before.
	var s Secrets
	if old := k.m[cr]; old != nil {
		s = *old
	}
	*field(&s) = sec
	k.m[cr] = &s
	return nil
}

// Remember records the master secret of a TLS 1.2 session under its
// session id or ticket, so a later abbreviated handshake resuming it can be
// decrypted. It is safe for concurrent use.
func (k *KeyLog) Remember(idOrTicket, master []byte) {
	if k == nil || len(idOrTicket) == 0 || len(master) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.res == nil {
		k.res = map[string][]byte{}
	}
	if len(k.res) >= 1<<16 {
		clear(k.res) // bounded: forget old sessions
	}
	k.res[string(idOrTicket)] = master
}

// Resumed returns the master secret remembered for a session id or ticket.
func (k *KeyLog) Resumed(idOrTicket []byte) []byte {
	if k == nil || len(idOrTicket) == 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.res[string(idOrTicket)]
}

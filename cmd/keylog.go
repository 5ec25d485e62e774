package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/wsdissect/wsdissect/engine"
	"github.com/wsdissect/wsdissect/source"
	"github.com/wsdissect/wsdissect/tlsdecrypt"
)

// keyLogFlags are the TLS key log flags of read and live.
type keyLogFlags struct {
	files []string
	prefs []string
}

// register adds the key log flags to fs (of the commands that decrypt).
func (k *keyLogFlags) register(pf *pflag.FlagSet) {
	pf.StringArrayVar(&k.files, "keylog", nil, "decrypt TLS (wss://) with the secrets of this NSS key log `FILE` (the SSLKEYLOGFILE format; repeatable)")
	pf.StringArrayVarP(&k.prefs, "option", "o", nil, "tshark-style preference `NAME:VALUE`; tls.keylog_file:FILE is understood (same as --keylog)")
}

// load builds the key log from --keylog, -o tls.keylog_file: and
// SSLKEYLOGFILE (when set and readable, which is said on stderr).
func (k *keyLogFlags) load(stderr io.Writer) (*tlsdecrypt.KeyLog, error) {
	kl := tlsdecrypt.NewKeyLog()
	files, err := k.paths()
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := kl.AddFile(f); err != nil {
			return nil, usageErr(err)
		}
	}
	if env := os.Getenv("SSLKEYLOGFILE"); env != "" {
		if b, err := os.ReadFile(env); err == nil {
			fmt.Fprintf(stderr, "wsdissect: using the TLS key log in SSLKEYLOGFILE (%s)\n", env)
			if err := kl.AddBytes(b, env); err != nil {
				// A browser may be appending to it: keep what parsed.
				fmt.Fprintf(stderr, "wsdissect: %v\n", err)
			}
		}
	}
	return kl, nil
}

// follow builds the key log of live: the files of --keylog, -o
// tls.keylog_file: and SSLKEYLOGFILE followed as they grow (a browser
// appends the secrets of each connection as it opens it), so connections
// opened after the capture started decrypt too. A file that does not
// exist yet is read once it does.
func (k *keyLogFlags) follow(stderr io.Writer) (*tlsdecrypt.KeyLog, error) {
	files, err := k.paths()
	if err != nil {
		return nil, err
	}
	env := os.Getenv("SSLKEYLOGFILE")
	if env != "" {
		files = append(files, env)
	}
	kl := tlsdecrypt.NewKeyLog()
	for _, f := range files {
		if err := kl.Follow(f); err != nil {
			return nil, usageErr(err)
		}
		what := "the TLS key log"
		if f == env {
			what = "the TLS key log in SSLKEYLOGFILE"
		}
		if _, err := os.Stat(f); err != nil {
			fmt.Fprintf(stderr, "wsdissect: following %s (%s), which does not exist yet\n", what, f)
		} else if f == env {
			fmt.Fprintf(stderr, "wsdissect: following %s (%s)\n", what, f)
		}
	}
	return kl, nil
}

// paths returns the files of --keylog and -o tls.keylog_file:.
func (k *keyLogFlags) paths() ([]string, error) {
	files := append([]string(nil), k.files...)
	for _, p := range k.prefs {
		name, val, ok := strings.Cut(p, ":")
		if !ok || (name != "tls.keylog_file" && name != "ssl.keylog_file") || val == "" {
			return nil, usageErr(fmt.Errorf("-o %s: only tls.keylog_file:FILE is supported", p))
		}
		files = append(files, val)
	}
	return files, nil
}

// secretsSource is a capture whose pcapng Decryption Secrets Blocks can be
// watched (source.File, source.Chain).
type secretsSource interface {
	OnSecrets(fn func(source.Secrets))
}

// watchSecrets adds the TLS key logs of the Decryption Secrets Blocks of src
// to kl as the reading meets them; what cannot be added is said on stderr.
// saw, when not nil, is called at each block.
func watchSecrets(src secretsSource, kl *tlsdecrypt.KeyLog, stderr io.Writer, saw func()) {
	add := engine.AddSecrets(kl, func(err error) {
		fmt.Fprintf(stderr, "wsdissect: %v\n", err)
	})
	src.OnSecrets(func(s source.Secrets) {
		if saw != nil {
			saw()
		}
		add(s)
	})
}

package cmd

import (
	"errors"
	"fmt"
	"regexp"

	"github.com/wsdissect/wsdissect/internal/capture"
)

// defaultInterface picks the interface live captures on without -i, as
// tcpdump does: the first one that is up and running and not loopback nor a
// pseudo-device, else the first that is up (loopback included).
func defaultInterface(ifs []capture.Interface) (string, error) {
	for _, it := range ifs {
		if it.Up && it.Running && !it.Loopback && it.Name != "any" && len(it.Addresses) > 0 {
			return it.Name, nil
		}
	}
	for _, it := range ifs {
		if it.Up && it.Name != "any" {
			return it.Name, nil
		}
	}
	return "", errors.New("no interface to capture on was found (wsdissect live -D lists them; -i picks one)")
}

// strconvErr matches the parse errors of number flags, which pflag passes
// on as strconv wrote them.
var strconvErr = regexp.MustCompile(`strconv\.Parse\w+: parsing "[^"]*": (invalid syntax|value out of range)`)

// plainFlagError rewrites a flag error in words: --ws-port abc says "not a
// number", not strconv.ParseUint's message.
func plainFlagError(err error) error {
	msg := strconvErr.ReplaceAllStringFunc(err.Error(), func(m string) string {
		if sub := strconvErr.FindStringSubmatch(m); sub[1] == "value out of range" {
			return "the number is out of range"
		}
		return "not a number"
	})
	if msg == err.Error() {
		return err
	}
	return fmt.Errorf("%s", msg)
}

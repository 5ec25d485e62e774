// Command wsdissect dissects WebSocket traffic (RFC 6455, RFC 7692) from packet
// captures and live interfaces.
package main

import (
	"os"

	"github.com/wsdissect/wsdissect/cmd"
)

func main() {
	os.Exit(cmd.Execute(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

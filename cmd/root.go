// Package cmd wires wsdissect's command line to its packages: flags, output
// selection and exit codes, nothing that parses protocol bytes.
package cmd

import "io"

// Execute runs the command line and returns the process exit code.
func Execute(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return 0
}

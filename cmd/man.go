package cmd

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCmd writes man pages for every command, for packagers:
// wsdissect man --dir /usr/local/share/man/man1.
func (a *app) manCmd(root *cobra.Command) *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:     "man --dir DIR",
		Short:   "Write man pages for wsdissect and its commands into a directory",
		Example: `  wsdissect man --dir /usr/local/share/man/man1 && man wsdissect-read`,
		Args:    cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			if dir == "" {
				return usageErr(fmt.Errorf("man needs --dir DIR"))
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return &exitError{code: ExitOutput, err: fmt.Errorf("man: %w", err)}
			}
			hdr := &doc.GenManHeader{Title: "WSDISSECT", Section: "1", Source: "wsdissect " + version()}
			root.DisableAutoGenTag = true
			if err := doc.GenManTree(root, hdr, dir); err != nil {
				return &exitError{code: ExitOutput, err: fmt.Errorf("man: %w", err)}
			}
			return nil
		},
	}
	c.Flags().StringVar(&dir, "dir", "", "directory to write the pages to (created if missing)")
	return c
}

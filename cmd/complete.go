package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/internal/capture"
)

// registerCompletions offers values for the flags that take a word from a
// known set: --color, -Y (field names) and live's -i (interface names).
// The flags are registered on each command that takes them, so the
// completions are too; call it once every command is added.
func registerCompletions(root, live *cobra.Command, fields func() []*field.Field) {
	colors := cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp)
	names := func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, f := range fields() {
			if strings.HasPrefix(f.Name, prefix) {
				names = append(names, f.Name+"\t"+f.Description)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	}
	for _, c := range append([]*cobra.Command{root}, root.Commands()...) {
		if c.Flags().Lookup("color") != nil {
			_ = c.RegisterFlagCompletionFunc("color", colors)
		}
		if c.Flags().Lookup("filter") != nil {
			_ = c.RegisterFlagCompletionFunc("filter", names)
		}
	}
	if live != nil {
		_ = live.RegisterFlagCompletionFunc("interface", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
			ifs, err := capture.Interfaces()
			if err != nil {
				return nil, cobra.ShellCompDirectiveError
			}
			names := make([]string, 0, len(ifs))
			for _, it := range ifs {
				names = append(names, it.Name)
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		})
	}
}

package cmd

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/capture"
	"github.com/wsdissect/wsdissect/field"
)

// registerCompletions offers values for the flags that take a word from a
// known set: --color, -Y (field names) and live's -i (interface names).
func registerCompletions(root, live *cobra.Command, fields func() []*field.Field) {
	_ = root.RegisterFlagCompletionFunc("color", cobra.FixedCompletions([]string{"auto", "always", "never"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("filter", func(_ *cobra.Command, _ []string, prefix string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, f := range fields() {
			if strings.HasPrefix(f.Name, prefix) {
				names = append(names, f.Name+"\t"+f.Description)
			}
		}
		return names, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
	})
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

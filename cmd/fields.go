package cmd

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/filter"
)

func (a *app) fieldsCmd() *cobra.Command {
	var anomalies bool
	c := &cobra.Command{
		Use:   "fields",
		Short: "List the filter fields (like tshark -G fields), or the anomaly ids with --anomalies",
		Example: `  wsdissect fields
  wsdissect fields | grep close
  wsdissect fields --anomalies`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, args []string) error {
			w := bufio.NewWriter(a.stdout)
			defer w.Flush()
			if anomalies {
				fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", "ID", "SEVERITY", "RFC", "MEANING")
				for _, an := range dissect.Anomalies() {
					fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", an.ID, an.Severity, an.RFC, an.Summary)
				}
				return nil
			}
			fmt.Fprintf(w, "%-22s %-10s %-48s %s\n", "FIELD", "TYPE", "ALIASES", "DESCRIPTION")
			for _, f := range filter.Fields() {
				fmt.Fprintf(w, "%-22s %-10s %-48s %s\n", f.Name, f.Type, strings.Join(f.Aliases, ", "), f.Description)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&anomalies, "anomalies", false, "list anomaly ids with severity and RFC section instead")
	return c
}

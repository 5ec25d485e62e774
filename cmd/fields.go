package cmd

import (
	"bufio"
	"fmt"
	"io"
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
			a.writeFields(w, anomalies)
			if err := w.Flush(); err != nil {
				return outputError(err)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&anomalies, "anomalies", false, "list anomaly ids with severity and RFC section instead")
	return c
}

// writeFields writes the field table, or the anomaly table.
func (a *app) writeFields(w io.Writer, anomalies bool) {
	if anomalies {
		fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", "ID", "SEVERITY", "RFC", "MEANING")
		for _, an := range dissect.Anomalies() {
			fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", an.ID, an.Severity, an.RFC, an.Summary)
		}
		return
	}
	fmt.Fprintf(w, "%-22s %-10s %-48s %s\n", "FIELD", "TYPE", "ALIASES", "DESCRIPTION")
	for _, f := range filter.Fields() {
		fmt.Fprintf(w, "%-22s %-10s %-48s %s\n", f.Name, f.Type, strings.Join(f.Aliases, ", "), f.Description)
	}
}

package cmd

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

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

// writeFields writes the field table, or the anomaly table, in aligned
// columns however long the names are.
func (a *app) writeFields(w io.Writer, anomalies bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	if anomalies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "ID", "SEVERITY", "RFC", "MEANING")
		for _, an := range dissect.Anomalies() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", an.ID, an.Severity, an.RFC, an.Summary)
		}
		return
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "FIELD", "TYPE", "ALIASES", "DESCRIPTION")
	for _, f := range filter.Fields() {
		aliases := strings.Join(f.Aliases, ", ")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Type, aliases, f.Description)
	}
}

package cmd

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wsdissect/wsdissect/dissect"
	"github.com/wsdissect/wsdissect/field"
	"github.com/wsdissect/wsdissect/subproto/attach"
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

// registry returns the fields every command filters and prints by: the
// built-in layers' and those of every further layer this build decodes.
func (a *app) registry() *field.Registry {
	r := field.Builtin()
	if err := r.Add(attach.Fields()...); err != nil {
		panic(err) // a field declared twice: a programming error every test run shows
	}
	if err := r.Add(a.extraFields...); err != nil {
		panic(err) // a layer declared a name twice: a programming error every test run shows
	}
	return r
}

// anomalies returns the anomaly ids of every layer this build decodes.
func (a *app) anomalies() *dissect.AnomalyRegistry {
	var r dissect.AnomalyRegistry
	for _, l := range [][]dissect.AnomalyInfo{dissect.Anomalies(), attach.Anomalies(), a.extraAnomalies} {
		if err := r.Add(l...); err != nil {
			panic(err) // an id declared twice: a programming error every test run shows
		}
	}
	return &r
}

// writeFields writes the field table, or the anomaly table, in aligned
// columns however long the names are.
func (a *app) writeFields(w io.Writer, anomalies bool) {
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	defer tw.Flush()
	if anomalies {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "ID", "SEVERITY", "RFC", "MEANING")
		for _, an := range a.anomalies().List() {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", an.ID, an.Severity, an.RFC, an.Summary)
		}
		return
	}
	fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", "FIELD", "TYPE", "ALIASES", "DESCRIPTION")
	for _, f := range a.registry().Fields() {
		aliases := strings.Join(f.Aliases, ", ")
		if aliases == "" {
			aliases = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", f.Name, f.Type, aliases, f.Description)
	}
}

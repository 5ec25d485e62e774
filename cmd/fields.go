package cmd

import (
	"bufio"
	"fmt"
	"io"
	"strings"

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
			defer w.Flush()
			if anomalies {
				fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", "ID", "SEVERITY", "RFC", "MEANING")
				for _, an := range a.anomalies().List() {
					fmt.Fprintf(w, "%-38s %-8s %-20s %s\n", an.ID, an.Severity, an.RFC, an.Summary)
				}
				return nil
			}
			return writeFields(w, a.registry().Fields())
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

// writeFields writes the field table of `wsdissect fields`, its columns
// aligned to their widest entry.
func writeFields(w io.Writer, fs []*field.Field) error {
	rows := [][4]string{{"FIELD", "TYPE", "ALIASES", "DESCRIPTION"}}
	for _, f := range fs {
		rows = append(rows, [4]string{f.Name, f.Type.String(), strings.Join(f.Aliases, ", "), f.Description})
	}
	var width [3]int
	for _, r := range rows {
		for i := range width {
			width[i] = max(width[i], len(r[i]))
		}
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%-*s  %-*s  %-*s  %s\n", width[0], r[0], width[1], r[1], width[2], r[2], r[3]); err != nil {
			return err
		}
	}
	return nil
}

package cmd

import "github.com/spf13/cobra"

func (a *app) exportCmd() *cobra.Command { return &cobra.Command{Use: "export", Hidden: true} }

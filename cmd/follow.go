package cmd

import "github.com/spf13/cobra"

func (a *app) followCmd() *cobra.Command { return &cobra.Command{Use: "follow", Hidden: true} }

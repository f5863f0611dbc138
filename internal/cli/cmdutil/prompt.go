package cmdutil

import (
	"bufio"
	"fmt"
	"strings"
)

// ConfirmYes asks question on the terminal and reports whether the answer
// was exactly "yes", as Terraform does: anything else declines. Callers
// check CanPrompt first and require a --yes/--auto-approve flag otherwise.
func ConfirmYes(ios *IOStreams, question string) (bool, error) {
	fmt.Fprintf(ios.ErrOut, "%s\n  Only 'yes' will be accepted to confirm.\n\n  Enter a value: ", question)
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(ios.ErrOut)
		return false, fmt.Errorf("reading confirmation: %w", err)
	}
	fmt.Fprintln(ios.ErrOut)
	return strings.TrimSpace(line) == "yes", nil
}

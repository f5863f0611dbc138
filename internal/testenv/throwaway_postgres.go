package testenv

import "errors"

// startThrowawayPostgres starts a private cluster with initdb/pg_ctl. (Filled in by the testenv work.)
func startThrowawayPostgres() (string, error) {
	return "", errors.New("no server on 127.0.0.1:5432 and MCPCTL_TEST_DATABASE_URL unset")
}

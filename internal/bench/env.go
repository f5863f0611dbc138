package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
	"github.com/jackc/pgx/v5"

	"github.com/mcpctl/mcpctl/internal/testenv"
)

// servers are the real Postgres and Vault one bench run measures against,
// with everything it created there, undone by close in reverse order.
type servers struct {
	pgURL      string
	vaultAddr  string
	vaultToken string
	vault      *vaultapi.Client
	// private says the Vault server is ours (file storage in a temp folder).
	private bool

	undo []func()
}

// startServers attaches Postgres (the flag, else the local server, else a
// throwaway cluster) and Vault (the flag, else a private server with file
// storage: the dev in-memory store slows down as it fills).
func startServers(ctx context.Context, cfg config, tmp string) (*servers, error) {
	s := &servers{}
	if err := s.startPostgres(ctx, cfg, tmp); err != nil {
		s.close()
		return nil, err
	}
	if err := s.startVault(ctx, cfg, tmp); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *servers) startPostgres(ctx context.Context, cfg config, tmp string) error {
	switch {
	case cfg.databaseURL != "":
		if err := testenv.PingPostgres(cfg.databaseURL); err != nil {
			return fmt.Errorf("-database-url does not answer: %w", err)
		}
		s.pgURL = cfg.databaseURL
		return nil
	case testenv.PingPostgres(testenv.LocalPostgresURL) == nil:
		s.pgURL = testenv.LocalPostgresURL
		return nil
	}
	progress("no Postgres on 127.0.0.1:5432; starting a throwaway cluster")
	dir := filepath.Join(tmp, "postgres")
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	// fsync stays on: the figures should be those of a real server.
	c, err := testenv.StartPostgresCluster(cctx, testenv.ClusterOptions{Dir: dir})
	if err != nil {
		return fmt.Errorf("start a throwaway Postgres cluster: %w (or pass -database-url)", err)
	}
	s.undo = append(s.undo, func() {
		if err := c.Stop(); err != nil {
			progress("stop Postgres: %v", err)
		}
	})
	s.pgURL = c.URL()
	return nil
}

func (s *servers) startVault(ctx context.Context, cfg config, tmp string) error {
	if cfg.vaultAddr != "" {
		s.vaultAddr, s.vaultToken = cfg.vaultAddr, cfg.vaultToken
		if s.vaultToken == "" {
			return fmt.Errorf("-vault-addr needs -vault-token (or VAULT_TOKEN)")
		}
	} else {
		bin, err := testenv.VaultBinary(ctx, os.Stderr)
		if err != nil {
			return err
		}
		p := &testenv.VaultProcess{Bin: bin, Dir: filepath.Join(tmp, "vault")}
		sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
		defer cancel()
		if err := p.Start(sctx, false); err != nil {
			return fmt.Errorf("start Vault: %w", err)
		}
		s.undo = append(s.undo, func() {
			if err := p.Stop(); err != nil {
				progress("stop Vault: %v", err)
			}
		})
		s.vaultAddr, s.vaultToken, s.private = p.Addr(), p.RootToken, true
	}
	vcfg := vaultapi.DefaultConfig()
	vcfg.Address = s.vaultAddr
	vcfg.MaxRetries = 0
	c, err := vaultapi.NewClient(vcfg)
	if err != nil {
		return fmt.Errorf("vault client for %s: %w", s.vaultAddr, err)
	}
	c.ClearNamespace()
	c.SetToken(s.vaultToken)
	s.vault = c
	return nil
}

// newMount mounts a fresh KV v2 engine, unmounted at close.
func (s *servers) newMount(ctx context.Context) (string, error) {
	path := "bench-" + testenv.RandHex(5)
	if err := s.vault.Sys().MountWithContext(ctx, path, &vaultapi.MountInput{
		Type: "kv", Options: map[string]string{"version": "2"},
	}); err != nil {
		return "", fmt.Errorf("mount KV v2 at %s: %w", path, err)
	}
	s.undo = append(s.undo, func() {
		uctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.vault.Sys().UnmountWithContext(uctx, path); err != nil {
			progress("unmount %s: %v", path, err)
		}
	})
	// A new KV v2 mount runs an upgrade step during which it answers every
	// request with an error.
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := s.vault.Logical().ReadWithContext(ctx, path+"/config")
		if err == nil {
			return path, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("KV mount %s not ready: %w", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// bulkListing reports whether the server serves OpenBao's detailed-metadata
// LIST, the path mcpctl's bulk Stat takes (Vault does not).
func (s *servers) bulkListing(ctx context.Context, mount string) bool {
	req, err := http.NewRequestWithContext(ctx, "LIST", s.vaultAddr+"/v1/"+mount+"/detailed-metadata/?limit=1", nil)
	if err != nil {
		return false
	}
	req.Header.Set("X-Vault-Token", s.vaultToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	// OpenBao answers 200, or 404 with an empty "errors" list for an empty
	// folder; Vault answers 404 with warnings, or 405.
	if resp.StatusCode == http.StatusOK {
		return true
	}
	var body struct {
		Errors   *[]string `json:"errors"`
		Warnings []string  `json:"warnings"`
	}
	if resp.StatusCode != http.StatusNotFound || json.NewDecoder(resp.Body).Decode(&body) != nil {
		return false
	}
	return body.Errors != nil && len(*body.Errors) == 0 && len(body.Warnings) == 0
}

// newSchema names a fresh Postgres schema (mcpctl creates it) and drops it
// at close.
func (s *servers) newSchema(prefix string) string {
	name := prefix + "_" + testenv.RandHex(5)
	s.undo = append(s.undo, func() { s.dropSchema(name) })
	return name
}

func (s *servers) dropSchema(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, s.pgURL)
	if err != nil {
		progress("drop schema %s: %v", name, err)
		return
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{name}.Sanitize()+" CASCADE"); err != nil {
		progress("drop schema %s: %v", name, err)
	}
}

func (s *servers) close() {
	for i := len(s.undo) - 1; i >= 0; i-- {
		s.undo[i]()
	}
	s.undo = nil
}

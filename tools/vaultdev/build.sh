#!/usr/bin/env bash
# Builds a real HashiCorp Vault server binary for tests and the demo, once, into a
# cache outside the repository keyed by this module's go.sum, and prints its path.
#
#   tools/vaultdev/build.sh            # prints the binary path (builds if missing)
#
# Why a prepare step: Vault's go.mod replaces vault/sdk with its in-tree copy, and
# replace lines do not apply to a dependency. No served vault/sdk matches v1.21.4
# exactly; v0.21.0 differs in two signatures, patched here into a git-ignored copy.
# Vault is BSL-licensed: it is built for tests only, never committed or shipped.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}

key=$(cat go.mod go.sum main.go build.sh | sha256sum | cut -c1-16)
cache=${MCPCTL_VAULT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mcpctl/vault}
bin="$cache/vault-$key"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"

# One builder at a time: parallel test packages may all ask for the binary.
exec 9>"$cache/build.lock"
flock 9
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

log() { echo "vaultdev: $*" >&2; }
log "building Vault v1.21.4 from the Go module proxy into $bin (once; ~700 MB download, ~9 min on 2 cores)"

sdkver=v0.21.0
src=$(go mod download -json "github.com/hashicorp/vault/sdk@$sdkver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { log "cannot download vault/sdk $sdkver"; exit 1; }
rm -rf _sdk
cp -r "$src" _sdk
chmod -R u+w _sdk

# (1) framework.Backend.ActivationFunc: Vault v1.21.4 passes (ctx, req).
sed -i 's/ActivationFunc func(context.Context, \*logical.Request, string) error/ActivationFunc func(context.Context, *logical.Request) error/' _sdk/framework/backend.go
# (2) keysutil.LockManager.RestorePolicy returns the restored key name, as in sdk v0.24.0.
lm=_sdk/helper/keysutil/lock_manager.go
awk '
  /^func \(lm \*LockManager\) RestorePolicy\(/ { inf=1; sub(/force bool\) error \{/, "force bool) (string, error) {") }
  inf && /^\t*return err$/ { sub(/return err/, "return \"\", err") }
  inf && /^\t*return fmt\.Errorf/ { sub(/return fmt/, "return \"\", fmt") }
  inf && /^\t*return errwrap\./ { sub(/return errwrap/, "return \"\", errwrap") }
  inf && /^\treturn nil$/ { sub(/return nil/, "return name, nil") }
  inf && /^}$/ { inf=0 }
  { print }
' "$lm" > "$lm.new" && mv "$lm.new" "$lm"
grep -q 'ActivationFunc func(context.Context, \*logical.Request) error' _sdk/framework/backend.go || { log "patch 1 did not apply"; exit 1; }
grep -q 'force bool) (string, error) {' "$lm" || { log "patch 2 did not apply"; exit 1; }

( while sleep 30; do log "still building… ($(date +%T))"; done ) &
ticker=$!
trap 'kill $ticker 2>/dev/null || true' EXIT
go build -trimpath -ldflags='-s -w' -o "$bin.tmp" . >&2
mv "$bin.tmp" "$bin"
log "built $bin"
echo "$bin"

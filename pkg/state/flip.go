package state

import "context"

// FlipSecret is step 5 of the migration protocol: in one transaction, the
// secret's row is rewritten to name its new backend (values included: set
// when entering a plaintext backend, cleared when leaving one) and the
// journal entry moves to st ("flipped", or "done" when nothing is left to
// clean up). Either both happen or neither does, so a crash never leaves a
// row whose journal disagrees with it.
func (s *Store) FlipSecret(ctx context.Context, sec *Secret, journalID int64, destVersion int64, st MigrationState) error {
	return s.InTx(ctx, func(tx *Tx) error {
		if err := tx.UpdateSecret(ctx, sec, true); err != nil {
			return err
		}
		return tx.SetMigrationState(ctx, journalID, st, destVersion, "")
	})
}

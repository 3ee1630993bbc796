package cluster

// This file owns cluster id generation, following Kafka's Uuid.randomUuid rules.

import (
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// NewClusterID returns a Kafka cluster id: a random version-4 UUID printed as
// URL-safe base64 without padding (22 characters). Like Kafka, it re-rolls ids that
// start with '-' (they would parse as a command-line flag) and the reserved ids.
func NewClusterID() (string, error) {
	for {
		u, err := uuid.NewRandom()
		if err != nil {
			return "", fmt.Errorf("generate cluster id: %w", err)
		}
		id := base64.RawURLEncoding.EncodeToString(u[:])
		if id[0] == '-' || reservedUUID(u) {
			continue
		}
		return id, nil
	}
}

// reservedUUID is Kafka's Uuid.ZERO_UUID and METADATA_TOPIC_ID (0,1); a v4 UUID can
// never be either, but the check keeps the rule visible where Kafka has it.
func reservedUUID(u uuid.UUID) bool {
	for _, b := range u[:15] {
		if b != 0 {
			return false
		}
	}
	return u[15] <= 1
}

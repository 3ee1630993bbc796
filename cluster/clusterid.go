package cluster

// This file owns cluster and directory id generation, following Kafka's
// Uuid.randomUuid rules.

import (
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"
)

// NewClusterID returns a Kafka cluster id: a random version-4 UUID printed as
// URL-safe base64 without padding (22 characters). Like Kafka, it re-rolls ids that
// start with '-' (they would parse as a command-line flag) and the reserved ids.
func NewClusterID() (string, error) {
	id, err := randomKafkaUUID()
	if err != nil {
		return "", fmt.Errorf("generate cluster id: %w", err)
	}
	return id, nil
}

// NewDirectoryID returns a log directory id (meta.properties directory.id), made by
// the same rules.
func NewDirectoryID() (string, error) {
	id, err := randomKafkaUUID()
	if err != nil {
		return "", fmt.Errorf("generate directory id: %w", err)
	}
	return id, nil
}

func randomKafkaUUID() (string, error) {
	for {
		u, err := uuid.NewRandom()
		if err != nil {
			return "", err
		}
		id := base64.RawURLEncoding.EncodeToString(u[:])
		if id[0] == '-' || reservedUUID(u) {
			continue
		}
		return id, nil
	}
}

// reservedUUID covers the ids Kafka reserves: ZERO_UUID and METADATA_TOPIC_ID (0,1),
// and for directories every id with high 64 bits 0 and low bits below 100. A v4
// UUID (version bits in the high half) is never one, but the check keeps the rule
// visible where Kafka has it.
func reservedUUID(u uuid.UUID) bool {
	for _, b := range u[:15] {
		if b != 0 {
			return false
		}
	}
	return u[15] < 100
}

// parseKafkaUUID decodes a Kafka UUID string (22 characters of URL-safe base64).
func parseKafkaUUID(s string) ([16]byte, error) {
	var u [16]byte
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return u, fmt.Errorf("%q is not a Kafka UUID (22 characters of URL-safe base64)", s)
	}
	copy(u[:], b)
	return u, nil
}

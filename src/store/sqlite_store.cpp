// SPDX-License-Identifier: MIT
// Placeholder until the SQLite store lands.

// SPDX-License-Identifier: MIT
// Placeholder until the TOML reader lands.

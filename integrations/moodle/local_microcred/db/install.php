<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * Installation: generate the site's signing key pair.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

/**
 * Generate the Ed25519 key pair the webhooks are signed with (kept in the plugin's config;
 * the public half is published at /local/microcred/jwks.php).
 *
 * @return bool
 */
function xmldb_local_microcred_install() {
    \local_microcred\local\keys::generate();
    return true;
}

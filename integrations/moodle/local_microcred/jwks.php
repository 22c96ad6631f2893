<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * The public key page: the JWKS the tool verifies this site's webhooks with (public, no login).
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

// @codingStandardsIgnoreLine This page is public on purpose: it serves a public key.
define('NO_MOODLE_COOKIES', true);
define('NO_DEBUG_DISPLAY', true);

require(__DIR__ . '/../../config.php');

$jwks = \local_microcred\local\keys::jwks();
@header('Content-Type: application/json; charset=utf-8');
@header('Cache-Control: public, max-age=300');
echo json_encode($jwks, JSON_UNESCAPED_SLASHES | JSON_PRETTY_PRINT);

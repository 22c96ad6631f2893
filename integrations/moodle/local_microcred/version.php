<?php
// This file is part of microcred's Moodle plugin, local_microcred.
//
// It is free software: you can redistribute it and/or modify it under the terms of the
// GNU General Public License as published by the Free Software Foundation, either
// version 3 of the License, or (at your option) any later version.

/**
 * Version of local_microcred: course completion and grades to the microcred tool, in seconds.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$plugin->component = 'local_microcred';
$plugin->version   = 2025060100;
$plugin->requires  = 2022041900; // Moodle 4.0: sodium is required from 4.2, checked at install.
$plugin->maturity  = MATURITY_BETA;
$plugin->release   = '0.1.0';

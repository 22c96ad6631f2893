<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * Events observed by local_microcred.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$observers = [
    [
        'eventname' => '\core\event\course_completed',
        'callback' => '\local_microcred\observer::course_completed',
    ],
    [
        'eventname' => '\core\event\user_graded',
        'callback' => '\local_microcred\observer::user_graded',
    ],
];

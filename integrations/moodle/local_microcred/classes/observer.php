<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred;

defined('MOODLE_INTERNAL') || die();

use local_microcred\local\sender;

/**
 * Event observers: a course completion or a grade changes what the tool should know.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class observer {
    /**
     * A user completed a course.
     *
     * @param \core\event\course_completed $event
     */
    public static function course_completed(\core\event\course_completed $event): void {
        sender::note((int) $event->courseid, (int) $event->relateduserid, 'course_completed');
    }

    /**
     * A grade of a user changed (an activity, a category or the course total).
     *
     * @param \core\event\user_graded $event
     */
    public static function user_graded(\core\event\user_graded $event): void {
        sender::note((int) $event->courseid, (int) $event->relateduserid, 'user_graded');
    }
}

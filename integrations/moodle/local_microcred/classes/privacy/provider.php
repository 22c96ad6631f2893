<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\privacy;

defined('MOODLE_INTERNAL') || die();

use core_privacy\local\metadata\collection;

/**
 * Privacy (GDPR) provider: the plugin stores nothing about users itself; it sends each
 * user's course completion and grades (and, only if the admin allows it, their name and
 * e-mail) to the microcred tool, which issues their micro-credentials. A retry waiting in
 * Moodle's task queue holds the same data until it is delivered (at most three days).
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class provider implements \core_privacy\local\metadata\provider {
    /**
     * What is sent to the tool.
     *
     * @param collection $collection
     * @return collection
     */
    public static function get_metadata(collection $collection): collection {
        $collection->add_external_location_link('microcred', [
            'userid' => 'privacy:metadata:microcred:userid',
            'courseid' => 'privacy:metadata:microcred:courseid',
            'completion' => 'privacy:metadata:microcred:completion',
            'grades' => 'privacy:metadata:microcred:grades',
            'fullname' => 'privacy:metadata:microcred:fullname',
            'email' => 'privacy:metadata:microcred:email',
        ], 'privacy:metadata:microcred');
        return $collection;
    }
}

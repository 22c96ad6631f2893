<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\local;

defined('MOODLE_INTERNAL') || die();

/**
 * The course-status event the tool's POST /api/webhooks/moodle accepts, from plain values.
 *
 * No Moodle API here (see status for where the values come from), so the payload can be
 * tested on its own against the tool. Claims: iss (this site's wwwroot, the issuer of its LTI
 * launches), aud (the tool's webhook URL), iat, exp (at most 600 s later), jti (kept across
 * retries: the tool accepts it once), event_type, event_time and data.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class payload {
    /** The event type the tool expects. */
    const EVENT = 'local_microcred.course_status.v1';
    /** The tool refuses tokens living longer than this (seconds between iat and exp). */
    const MAX_LIFETIME = 600;
    /** What triggers a status. */
    const TRIGGERS = ['course_completed', 'user_graded', 'resend'];

    /**
     * A new jti: 32 hexadecimal characters.
     *
     * @return string
     */
    public static function new_jti(): string {
        return bin2hex(random_bytes(16));
    }

    /**
     * The claims of one event.
     *
     * @param string $issuer this site's wwwroot
     * @param string $audience the tool's webhook URL
     * @param array $data from data()
     * @param string $jti
     * @param int $now seconds since 1970
     * @param int $lifetime seconds, at most MAX_LIFETIME
     * @return array
     */
    public static function claims(string $issuer, string $audience, array $data, string $jti, int $now,
            int $lifetime = 300): array {
        if (strlen($jti) < 8 || strlen($jti) > 255) {
            throw new \InvalidArgumentException('jti must have 8 to 255 characters');
        }
        return [
            'iss' => rtrim($issuer, '/'),
            'aud' => $audience,
            'iat' => $now,
            'exp' => $now + max(1, min($lifetime, self::MAX_LIFETIME)),
            'jti' => $jti,
            'event_type' => self::EVENT,
            'event_time' => gmdate('Y-m-d\TH:i:s\Z', $now),
            'data' => $data,
        ];
    }

    /**
     * The event's data.
     *
     * @param int $courseid the course id (the LTI context id of its launches)
     * @param int $userid the user id (the LTI sub of their launches)
     * @param string $trigger one of TRIGGERS
     * @param array|null $completion ['enabled' => bool, 'completed' => bool|null, 'missing' => string[]]
     * @param array|null $coursetotal a grade (see grade()) for the course total
     * @param array $items grades of the other grade items
     * @param array|null $pii ['name' => ..., 'email' => ...] only when the admin allows it
     * @return array
     */
    public static function data(int $courseid, int $userid, string $trigger, ?array $completion, ?array $coursetotal,
            array $items, ?array $pii = null): array {
        if (!in_array($trigger, self::TRIGGERS, true)) {
            throw new \InvalidArgumentException("unknown trigger $trigger");
        }
        $user = ['id' => (string) $userid];
        foreach (['name', 'email'] as $field) {
            if (!empty($pii[$field])) {
                $user[$field] = (string) $pii[$field];
            }
        }
        $data = ['courseid' => (string) $courseid, 'trigger' => $trigger, 'user' => $user];
        if ($completion !== null) {
            $data['completion'] = [
                'enabled' => (bool) $completion['enabled'],
                'completed' => isset($completion['completed']) ? (bool) $completion['completed'] : null,
                'missing' => array_values(array_map('strval', $completion['missing'] ?? [])),
            ];
        }
        $data['course_total'] = $coursetotal === null ? null : self::grade($coursetotal);
        $data['grade_items'] = array_values(array_map([self::class, 'grade'], $items));
        return $data;
    }

    /**
     * One grade item's grade, numbers as floats; a grade to pass at or below the minimum is none
     * (as grade_grade::is_passed() reads it).
     *
     * @param array $grade name, idnumber, itemtype, grade, grademin, grademax, gradepass
     * @return array
     */
    public static function grade(array $grade): array {
        $min = (float) ($grade['grademin'] ?? 0);
        $pass = isset($grade['gradepass']) ? (float) $grade['gradepass'] : null;
        return [
            'name' => isset($grade['name']) ? (string) $grade['name'] : null,
            'idnumber' => (string) ($grade['idnumber'] ?? ''),
            'itemtype' => (string) ($grade['itemtype'] ?? 'mod'),
            'grade' => isset($grade['grade']) ? (float) $grade['grade'] : null,
            'grademin' => $min,
            'grademax' => (float) ($grade['grademax'] ?? 100),
            'gradepass' => ($pass !== null && $pass > $min) ? $pass : null,
        ];
    }
}

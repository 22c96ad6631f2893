<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

namespace local_microcred\local;

defined('MOODLE_INTERNAL') || die();

/**
 * What Moodle knows now about one user in one course: completion, the course total and every
 * grade item, with their grades to pass (read here directly: no web-service function returns
 * the course total's grade to pass).
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */
class status {
    /**
     * Whether the course has an activity of the tool (an External tool whose URL, or whose
     * preconfigured tool's URL, is on the tool's site): other courses are not the tool's business.
     *
     * @param int $courseid
     * @param string $webhookurl
     * @return bool
     */
    public static function course_uses_tool(int $courseid, string $webhookurl): bool {
        global $DB;
        if (get_config('local_microcred', 'allcourses')) {
            return true;
        }
        $parts = parse_url($webhookurl);
        if (empty($parts['scheme']) || empty($parts['host'])) {
            return false;
        }
        $origin = $parts['scheme'] . '://' . $parts['host'] . (isset($parts['port']) ? ':' . $parts['port'] : '');
        $like = $DB->sql_like('l.toolurl', ':url1', false);
        $liketype = $DB->sql_like('t.baseurl', ':url2', false);
        $sql = "SELECT 1
                  FROM {lti} l
             LEFT JOIN {lti_types} t ON t.id = l.typeid
                 WHERE l.course = :course AND ($like OR $liketype)";
        $pattern = $DB->sql_like_escape($origin) . '%';
        return $DB->record_exists_sql($sql, ['course' => $courseid, 'url1' => $pattern, 'url2' => $pattern]);
    }

    /**
     * The event data for one user in one course (see payload::data()).
     *
     * @param int $courseid
     * @param int $userid
     * @param string $trigger
     * @return array
     */
    public static function collect(int $courseid, int $userid, string $trigger): array {
        global $CFG, $DB;
        require_once($CFG->libdir . '/gradelib.php');
        require_once($CFG->libdir . '/completionlib.php');

        $course = get_course($courseid);
        // The course total as the gradebook shows it (aggregation done, if a grade changed).
        grade_regrade_final_grades_if_required($course);

        $info = new \completion_info($course);
        if ($info->is_enabled() && $info->has_criteria()) {
            $missing = [];
            foreach ($info->get_completions($userid) as $completion) {
                if (!$completion->is_complete()) {
                    $missing[] = trim(strip_tags($completion->get_criteria()->get_title_detailed()));
                }
            }
            $completion = ['enabled' => true, 'completed' => $info->is_course_complete($userid),
                'missing' => $missing];
        } else {
            $completion = ['enabled' => false];
        }

        $total = null;
        $items = [];
        foreach (\grade_item::fetch_all(['courseid' => $courseid]) ?: [] as $item) {
            if ($item->gradetype == GRADE_TYPE_NONE || $item->is_category_item()) {
                continue;
            }
            $grade = \grade_grade::fetch(['itemid' => $item->id, 'userid' => $userid]);
            $row = [
                'name' => $item->is_course_item() ? null : $item->get_name(),
                'idnumber' => (string) $item->idnumber,
                'itemtype' => (string) $item->itemtype,
                'grade' => ($grade && $grade->finalgrade !== null) ? (float) $grade->finalgrade : null,
                'grademin' => (float) $item->grademin,
                'grademax' => (float) $item->grademax,
                'gradepass' => (float) $item->gradepass,
            ];
            if ($item->is_course_item()) {
                $total = $row;
            } else {
                $items[] = $row;
            }
        }

        $pii = null;
        if (get_config('local_microcred', 'sendpii')) {
            $user = \core_user::get_user($userid);
            if ($user) {
                $pii = ['name' => fullname($user), 'email' => $user->email];
            }
        }
        return payload::data($courseid, $userid, $trigger, $completion, $total, $items, $pii);
    }
}

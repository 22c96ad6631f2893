<?php
// Used by check_real_moodle.py: prepare a freshly installed Moodle for the check, the way an
// admin and a teacher would through the web interface (see docs/interop.md for the clicks).
// CLI only:  php setup_site.php <step> [json argument]
//   site        users, a course with completion on an activity, web services, a token -> JSON
//   toolvisible <typeid>   the registered tool in the activity chooser (Tool configuration usage)
//   gradepass   {"courseid": C, "gradepass": P}   the course total's grade to pass
//   state       {"courseid": C}   lti instances, grade items and completion, for the report

define('CLI_SCRIPT', true);
require(getenv('MOODLE_DIR') . '/config.php');
require_once($CFG->libdir . '/clilib.php');
require_once($CFG->dirroot . '/course/lib.php');
require_once($CFG->dirroot . '/course/modlib.php');
require_once($CFG->dirroot . '/user/lib.php');
require_once($CFG->libdir . '/completionlib.php');
require_once($CFG->dirroot . '/completion/criteria/completion_criteria_activity.php');
require_once($CFG->dirroot . '/completion/completion_aggregation.php');
require_once($CFG->libdir . '/gradelib.php');
require_once($CFG->dirroot . '/webservice/lib.php');
require_once($CFG->dirroot . '/lib/resourcelib.php');

$step = $argv[1] ?? '';
$arg = isset($argv[2]) ? json_decode($argv[2], true) : [];
\core\session\manager::set_user(get_admin());

function user_with(string $username, string $first, string $last, string $lang = 'en'): int {
    global $DB, $CFG;
    if ($id = $DB->get_field('user', 'id', ['username' => $username])) {
        return (int) $id;
    }
    return (int) user_create_user((object) ['username' => $username, 'password' => 'Pass-word-1', 'firstname' => $first,
        'lastname' => $last, 'email' => "$username@example.org", 'auth' => 'manual', 'confirmed' => 1,
        'mnethostid' => $CFG->mnet_localhost_id, 'lang' => $lang], true, false);
}

switch ($step) {
    case 'site':
        set_config('enablewebservices', 1);
        set_config('webserviceprotocols', 'rest');
        set_config('enablecompletion', 1);
        // The tool listens on 127.0.0.1 here: let Moodle's curl reach it (never on a real site).
        set_config('curlsecurityblockedhosts', '');
        set_config('curlsecurityallowedport', '');
        // User tours would cover the pages the browser clicks through.
        $DB->set_field('tool_usertours_tours', 'enabled', 0);
        \cache::make('tool_usertours', 'tourdata')->purge();
        $teacher = user_with('teacher1', 'Terry', 'Teacher');
        $s1 = user_with('student1', 'Léa', 'Martin', 'fr');
        $s2 = user_with('student2', 'Sam', 'Novak');
        $course = $DB->get_record('course', ['shortname' => 'MC101']);
        if (!$course) {
            $course = create_course((object) ['fullname' => 'Micro-credentials 101', 'shortname' => 'MC101',
                'category' => 1, 'enablecompletion' => 1, 'format' => 'topics', 'numsections' => 1]);
        }
        $manual = enrol_get_plugin('manual');
        $instance = $DB->get_record('enrol', ['courseid' => $course->id, 'enrol' => 'manual'], '*', MUST_EXIST);
        $roles = ['editingteacher' => [$teacher], 'student' => [$s1, $s2]];
        foreach ($roles as $shortname => $ids) {
            $roleid = $DB->get_field('role', 'id', ['shortname' => $shortname]);
            foreach ($ids as $id) {
                $manual->enrol_user($instance, $id, $roleid);
            }
        }
        // "Read the guide": a page the learner marks as done; completing it completes the course.
        $cm = $DB->get_record_sql("SELECT cm.* FROM {course_modules} cm JOIN {modules} m ON m.id = cm.module
                                   WHERE m.name = 'page' AND cm.course = ?", [$course->id]);
        if (!$cm) {
            $info = create_module((object) ['modulename' => 'page', 'course' => $course->id, 'section' => 1,
                'visible' => 1, 'name' => 'Read the guide',
                'introeditor' => ['text' => '', 'format' => FORMAT_HTML, 'itemid' => 0],
                'content' => '<p>The guide.</p>', 'contentformat' => FORMAT_HTML,
                'display' => RESOURCELIB_DISPLAY_OPEN, 'printintro' => 0, 'printlastmodified' => 0,
                'completion' => COMPLETION_TRACKING_MANUAL]);
            $cm = get_coursemodule_from_id('page', $info->coursemodule);
        }
        if (!$DB->record_exists('course_completion_criteria', ['course' => $course->id])) {
            $criterion = new completion_criteria_activity();
            $criteriadata = (object) ['id' => $course->id, 'criteria_activity' => [$cm->id => 1]];
            $criterion->update_config($criteriadata);
            $aggregation = new completion_aggregation(['course' => $course->id, 'criteriatype' => null]);
            $aggregation->setMethod(COMPLETION_AGGREGATION_ALL);
            $aggregation->save();
        }
        // Web services: a service with the functions the tool calls, a token for the admin.
        $service = $DB->get_record('external_services', ['shortname' => 'microcred']);
        $ws = new webservice();
        if (!$service) {
            $serviceid = $ws->add_external_service((object) ['name' => 'microcred', 'shortname' => 'microcred',
                'enabled' => 1, 'restrictedusers' => 0, 'downloadfiles' => 0, 'uploadfiles' => 0]);
            foreach (['core_completion_get_course_completion_status', 'gradereport_user_get_grade_items',
                    'gradereport_user_get_grades_table', 'gradereport_overview_get_course_grades',
                    'core_webservice_get_site_info'] as $function) {
                $ws->add_external_function_to_service($function, $serviceid);
            }
            $service = $DB->get_record('external_services', ['id' => $serviceid]);
        }
        $token = \core_external\util::generate_token(EXTERNAL_TOKEN_PERMANENT, $service, get_admin()->id,
            context_system::instance());
        echo json_encode(['courseid' => (int) $course->id, 'pagecmid' => (int) $cm->id, 'token' => $token,
            'users' => ['teacher1' => $teacher, 'student1' => $s1, 'student2' => $s2],
            'release' => $CFG->release, 'version' => $CFG->version]);
        break;
    case 'toolvisible':
        $DB->set_field('lti_types', 'coursevisible', 2, ['id' => (int) $arg]);  // LTI_COURSEVISIBLE_ACTIVITYCHOOSER
        echo json_encode(['ok' => true]);
        break;
    case 'gradepass':
        $item = grade_item::fetch_course_item((int) $arg['courseid']);
        $item->gradepass = (float) $arg['gradepass'];
        $item->update();
        echo json_encode(['ok' => true, 'grademax' => (float) $item->grademax]);
        break;
    case 'state':
        $courseid = (int) $arg['courseid'];
        $types = array_values($DB->get_records('lti_types', null, 'id', 'id, name, state, coursevisible, baseurl'));
        $ltis = array_values($DB->get_records('lti', ['course' => $courseid], 'id',
            'id, name, typeid, toolurl, grade, instructorchoiceacceptgrades, instructorcustomparameters'));
        $items = array_values($DB->get_records('grade_items', ['courseid' => $courseid], 'id',
            'id, itemtype, itemmodule, iteminstance, grademax, gradepass'));
        $grades = array_values($DB->get_records_sql("SELECT g.id, g.itemid, g.userid, g.finalgrade FROM {grade_grades} g
            JOIN {grade_items} i ON i.id = g.itemid WHERE i.courseid = ?", [$courseid]));
        $completions = array_values($DB->get_records('course_completions', ['course' => $courseid], 'id',
            'id, userid, timecompleted'));
        $cms = array_values($DB->get_records_sql("SELECT cm.id, cm.instance, m.name FROM {course_modules} cm
            JOIN {modules} m ON m.id = cm.module WHERE cm.course = ?", [$courseid]));
        $tasks = $DB->count_records('task_adhoc', ['classname' => '\local_microcred\task\send_webhook']);
        echo json_encode(compact('types', 'ltis', 'items', 'grades', 'completions', 'cms', 'tasks'));
        break;
    default:
        cli_error('unknown step');
}

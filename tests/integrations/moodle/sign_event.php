<?php
// Test driver for local_microcred's signing and payload code, run by
// tests/integrations/moodle/test_local_microcred.py without Moodle: reads one JSON request on
// stdin, answers one JSON object on stdout. Only the plugin's Moodle-free classes are loaded.
//
// {"op": "keypair"}                         -> {"secret": b64, "public": b64, "jwk": {...}}
// {"op": "sign", "secret", "public", "issuer", "audience", "jti"?, "now"?, "lifetime"?,
//  "event": {"courseid", "userid", "trigger", "completion", "course_total", "grade_items", "pii"}}
//                                           -> {"token": "...", "claims": {...}}
// {"op": "data", "event": {...}}            -> the payload's data, or {"error": "..."}

define('MOODLE_INTERNAL', true);
$plugin = getenv('LOCAL_MICROCRED_DIR') ?: __DIR__ . '/../../../integrations/moodle/local_microcred';
require_once($plugin . '/classes/local/jwt.php');
require_once($plugin . '/classes/local/payload.php');

use local_microcred\local\jwt;
use local_microcred\local\payload;

function event_data(array $e): array {
    return payload::data((int) $e['courseid'], (int) $e['userid'], (string) $e['trigger'], $e['completion'] ?? null,
        $e['course_total'] ?? null, $e['grade_items'] ?? [], $e['pii'] ?? null);
}

$request = json_decode(stream_get_contents(STDIN), true);
try {
    switch ($request['op'] ?? '') {
        case 'keypair':
            $pair = jwt::generate_keypair();
            $out = $pair + ['jwk' => jwt::public_jwk($pair['public'])];
            break;
        case 'sign':
            $jwk = jwt::public_jwk($request['public']);
            $claims = payload::claims($request['issuer'], $request['audience'], event_data($request['event']),
                $request['jti'] ?? payload::new_jti(), (int) ($request['now'] ?? time()),
                (int) ($request['lifetime'] ?? 300));
            $out = ['token' => jwt::sign($claims, $request['secret'], $jwk['kid']), 'claims' => $claims];
            break;
        case 'data':
            $out = event_data($request['event']);
            break;
        default:
            throw new InvalidArgumentException('unknown op');
    }
} catch (Throwable $e) {
    $out = ['error' => get_class($e) . ': ' . $e->getMessage()];
}
echo json_encode($out, JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION);

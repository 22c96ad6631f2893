<?php
// This file is part of microcred's Moodle plugin, local_microcred (GPL v3 or later).

/**
 * Chaînes françaises de local_microcred.
 *
 * @package    local_microcred
 * @copyright  2025 microcred contributors
 * @license    http://www.gnu.org/copyleft/gpl.html GNU GPL v3 or later
 */

defined('MOODLE_INTERNAL') || die();

$string['allcourses'] = 'Envoyer pour tous les cours';
$string['allcourses_desc'] = 'Par défaut, l\'état d\'un cours n\'est envoyé que pour les cours qui ont une activité de l\'outil microcred. Cochez pour envoyer pour tous les cours.';
$string['deliveryfailed'] = 'L\'outil microcred n\'a pas pu recevoir l\'état du cours ; il sera renvoyé.';
$string['keypage'] = 'Clé publique microcred';
$string['keypage_command'] = 'Sur l\'outil microcred, enregistrez cette clé une fois (l\'outil la récupère ensuite, ainsi que toute nouvelle clé, à l\'adresse ci-dessus) :';
$string['keypage_intro'] = 'L\'outil microcred vérifie chaque état de cours envoyé par ce site avec cette clé publique. Elle est publiée ici :';
$string['keyregenerated'] = 'Une nouvelle paire de clés a été générée. L\'outil récupère la nouvelle clé publique à l\'adresse de la clé ; s\'il a reçu un fichier de clé, enregistrez-y la nouvelle clé.';
$string['lifetime'] = 'Durée de validité du jeton (secondes)';
$string['lifetime_desc'] = 'Durée pendant laquelle chaque état de cours signé reste valide (600 secondes au plus).';
$string['pluginname'] = 'microcred';
$string['privacy:metadata:microcred'] = 'Pour délivrer des micro-certifications, l\'état du cours d\'un utilisateur (achèvement et notes) est envoyé à l\'outil microcred lorsqu\'il achève un cours ou reçoit une note dans un cours qui utilise l\'outil.';
$string['privacy:metadata:microcred:completion'] = 'Si l\'utilisateur a achevé le cours, et quels critères d\'achèvement manquent encore.';
$string['privacy:metadata:microcred:courseid'] = 'L\'identifiant du cours.';
$string['privacy:metadata:microcred:email'] = 'L\'adresse de courriel de l\'utilisateur, seulement si l\'administrateur l\'autorise.';
$string['privacy:metadata:microcred:fullname'] = 'Le nom complet de l\'utilisateur, seulement si l\'administrateur l\'autorise.';
$string['privacy:metadata:microcred:grades'] = 'Le total du cours et les notes de l\'utilisateur, avec chaque note pour passer.';
$string['privacy:metadata:microcred:userid'] = 'L\'identifiant de l\'utilisateur (le même que celui qu\'envoient les lancements de l\'outil externe).';
$string['regeneratekey'] = 'Générer une nouvelle paire de clés';
$string['sendpii'] = 'Envoyer les noms et adresses de courriel';
$string['sendpii_desc'] = 'Désactivé par défaut : l\'outil ne connaît alors les apprenants que par leur identifiant, comme lorsque les réglages de confidentialité de l\'outil externe indiquent « Jamais ». Ne cochez que si l\'outil peut connaître les noms et adresses de courriel des apprenants.';
$string['settings_intro'] = 'Lorsqu\'un apprenant achève un cours ou reçoit une note, ce site envoie à l\'outil microcred un état du cours signé, afin que sa micro-certification soit délivrée en quelques secondes. L\'outil doit connaître la clé publique de ce site : voir <a href="{$a}">la page de la clé publique</a>.';
$string['tasksendwebhook'] = 'Envoyer un état de cours à l\'outil microcred';
$string['webhookurl'] = 'URL du webhook de l\'outil';
$string['webhookurl_desc'] = 'Le webhook Moodle de l\'outil microcred, par exemple https://microcred.example.org/api/webhooks/moodle. Rien n\'est envoyé tant qu\'il est vide.';

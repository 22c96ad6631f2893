"""A hand-written OB 3.0 micro-credential with every Annex I element, shaped like the
engine's output, for tests of the pure presentation code (no signing needed)."""
from __future__ import annotations

import copy

SAMPLE = {
    "@context": ["https://www.w3.org/ns/credentials/v2",
                 "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
    "id": "urn:uuid:5f2c0b8e-8d7e-4d77-9d3c-1b1b7c2f0a11",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "name": "Données ouvertes et société",
    "issuer": {
        "id": "did:web:tool.test:issuers:univ-exemple",
        "type": ["Profile"],
        "name": "Université d'Exemple",
        "url": "https://univ.example",
        "address": {"type": ["Address"], "addressCountry": "France", "addressCountryCode": "FR"},
        "otherIdentifier": [{"type": "IdentifierEntry", "identifier": "19751234500017",
                             "identifierType": "identifier"}],
    },
    "validFrom": "2026-03-14T10:00:00Z",
    "validUntil": "2031-03-14T10:00:00Z",
    "credentialSubject": {
        "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        "type": ["AchievementSubject"],
        "identifier": [{"type": "IdentityObject", "identityType": "name", "hashed": False,
                        "identityHash": "Éloïse Lefèvre-Œuvray"}],
        "creditsEarned": 5,
        "result": [{"type": ["Result"], "resultDescription": "urn:uuid:rd-1", "value": "87/100"}],
        "achievement": {
            "id": "https://tool.test/definitions/abc",
            "type": ["Achievement"],
            "achievementType": "MicroCredential",
            "name": "Données ouvertes et société",
            "description": "Un cours sur les données ouvertes.",
            "criteria": {"narrative": "Réussir l'examen final (60 % minimum)."},
            "creditsAvailable": 5,
            "fieldOfStudy": "Information and communication technologies",
            "inLanguage": "fr",
            "alignment": [
                {"type": ["Alignment"], "targetName": "EQF level 6", "targetFramework": "EQF",
                 "targetCode": "6", "targetUrl": "http://data.europa.eu/snb/eqf/6"},
                {"type": ["Alignment"], "targetName": "manage data", "targetFramework": "ESCO",
                 "targetUrl": "http://data.europa.eu/esco/skill/abc"},
            ],
            "resultDescription": [{"id": "urn:uuid:rd-1", "type": ["ResultDescription"], "name": "Note finale",
                                   "resultType": "ScaledScore"}],
            "learningOutcomes": ["Publier un jeu de données ouvert", "Évaluer une licence"],
            "workloadHours": 125,
            "assessmentType": "Examen final en ligne",
            "modeOfLearning": {"id": "http://data.europa.eu/snb/learning-assessment/920fbb3cbe",
                               "prefLabel": {"en": "Online", "fr": "En ligne"}},
            "qualityAssurance": "Accréditation HCERES",
            "supervisionAndIdentityVerification": {
                "id": "http://data.europa.eu/snb/supervision-verification/c598449d64",
                "prefLabel": {"en": "Unsupervised without ID Verification"}},
            "prerequisites": "Aucun",
            "integrationStackability": "Capitalisable vers le DU Données",
            "furtherInformation": "https://univ.example/mc/donnees",
        },
    },
}


def sample(**changes):
    doc = copy.deepcopy(SAMPLE)
    doc.update(changes)
    return doc

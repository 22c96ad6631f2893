"""SD-JWT VC Type Metadata of our micro-credentials (served at the ``vct`` URL).

It ``extends`` the DC4EU pilots' ``urn:eudi:micro_credential:1`` (plugin/data/oid4vci/,
with its source and licence) and keeps its claim paths; it adds the claims that are
selectively disclosable here (``sd: always``) and the Annex I elements.
"""
from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from plugin.delivery.oid4vci.metadata import DC4EU_VCT
from plugin.paths import DATA_DIR

SELECTIVE = (("name", "Learner", "Apprenant·e"), ("birthdate", "Date of birth", "Date de naissance"),
             ("grade", "Grade achieved", "Note obtenue"))
ANNEX = (("title", "Title"), ("awarding_body", "Awarding body"), ("country", "Country or region of the issuer"),
         ("issued", "Date of issuing"), ("learning_outcomes", "Learning outcomes"), ("workload", "Notional workload"),
         ("level", "Level (EQF, QF-EHEA)"), ("assessment", "Type of assessment"),
         ("participation", "Form of participation"), ("quality_assurance", "Quality assurance"),
         ("prerequisites", "Prerequisites"), ("supervision", "Supervision and identity verification"),
         ("stackability", "Integration and stackability options"), ("further_information", "Further information"))


@lru_cache(maxsize=1)
def dc4eu_type() -> dict[str, Any]:
    return json.loads((DATA_DIR / "oid4vci" / "vctm_microcredential.json").read_text(encoding="utf-8"))


def type_metadata(vct: str) -> dict[str, Any]:
    base = dc4eu_type()
    claims = [c for c in base["claims"] if c["path"][0] == "credentialSubject"]
    claims += [{"path": ["credentialSubject", name], "sd": "always",
                "display": [{"lang": "en", "label": en}, {"lang": "fr", "label": fr}]} for name, en, fr in SELECTIVE]
    claims += [{"path": ["annex_i", key], "sd": "never", "display": [{"lang": "en", "label": label}]}
               for key, label in ANNEX]
    claims += [{"path": ["issuer", "name"], "sd": "never", "display": [{"lang": "en", "label": "Awarding body"}]}]
    return {
        "vct": vct,
        "name": "Micro-credential (EU Council Recommendation of 16 June 2022)",
        "description": "A micro-credential with every Annex I element, from an Open Badges 3.0 credential.",
        "extends": DC4EU_VCT,
        "display": [{"lang": "en", "name": "Micro-credential", "description": "A micro-credential (EU Annex I)."},
                    {"lang": "fr", "name": "Micro-certification",
                     "description": "Une micro-certification (annexe I de l'UE)."}],
        "claims": claims,
    }

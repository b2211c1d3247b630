"""Policy contracts: versioned, effective-dated YAML documents of rules, with reference tables."""
from .loader import default_contracts_dir, load_contracts
from .model import CodeSet, ContractVersion, Document, Rule, Source, Table

__all__ = ["load_contracts", "default_contracts_dir", "ContractVersion", "Rule", "Source",
           "Document", "CodeSet", "Table"]

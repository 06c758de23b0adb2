"""The acquisition-vs-retention core reduced to Bass diffusion with churn (smb-benchmarks.md):
adoption = (p + q*A/N)*P, churn = c*A, churned customers return to the potential pool. The
equilibrium share x = A/N solves q*x^2 + (c + p - q)*x - p = 0 (x* ~ 0.902 for p = 0.01,
q = 0.5, c = 0.05). It uses the templates' names: customers, potential_customers,
referral_rate (q), base_churn_rate (c)."""

from sdlib import Model

A = 'smb-benchmarks.md, analytic check: Bass diffusion with churn'


def build():
    m = Model('bass', 'tightrope: Bass diffusion with churn (reduced acquisition/retention core)',
              'Reduced core for the analytic check.', stop=200)
    m.group = 'Bass diffusion with churn'
    m.stock('potential_customers', 'market_size - initial_customers', 'customers',
            'Prospects, including churned customers who may come back.',
            inflows=['customer_churn'], outflows=['customer_acquisition'])
    m.stock('customers', 'initial_customers', 'customers', 'Adopters.',
            inflows=['customer_acquisition'], outflows=['customer_churn'])
    m.flow('customer_acquisition',
           '(innovation_rate + referral_rate * customers / market_size) * potential_customers',
           'customers/Month', 'Bass adoption: advertising (p) plus word of mouth (q).')
    m.flow('customer_churn', 'base_churn_rate * customers', 'customers/Month', 'Churn (c).')
    m.const('market_size', 1000, 'customers', 'Market size N.', A)
    m.const('initial_customers', 10, 'customers', 'Adopters at month 0.', A)
    m.const('innovation_rate', 0.01, '1/Month', 'Bass p.', A)
    m.const('referral_rate', 0.5, '1/Month', 'Bass q.', A)
    m.const('base_churn_rate', 0.05, '1/Month', 'Churn c.', A)
    m.aux('adopter_share', 'customers / market_size', 'dimensionless', 'x = A/N.')
    return m

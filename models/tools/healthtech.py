"""Healthcare technology: innovation vs patient safety."""

from core import add_core, cash_outflow, finish_core
from sdlib import Model

B = 'smb-benchmarks.md'
A = 'modelling assumption (no benchmark in smb-benchmarks.md)'


def build():
    m = Model('healthtech', 'tightrope template: SMB healthcare technology',
              'A connected medical device with software, sold to clinics as a subscription: '
              '300 clinics, $600K a month.')
    add_core(m, {
        'initial_cash': 850000, 'initial_cash_src': 'about 1.5 months of costs; ' + B,
        'initial_debt': 200000, 'revenue_init': 'initial_revenue_estimate',
        'fixed_costs': 30000, 'fixed_costs_src': 'quality system, registrations, rent; ' + A,
        'salary': 9000, 'salary_src': '$108K a year, blended; ' + A,
        'growth_investment_share': 0.15,
        'growth_investment_share_src': A,
        'payroll_budget_ratio': 0.6, 'payroll_src': A,
        'initial_headcount': 28,
        'initial_customers': 300,
        'referral_rate': 0.01, 'referral_src': A,
        'base_churn_rate': 0.015, 'churn_src': 'clinic contracts, ~17 %/yr; ' + A,
        'initial_ideas': 10, 'initial_wip': 4, 'initial_features': 20,
        'ideas_per_person': 0.1, 'effort_per_feature': 6, 'feature_lifetime': 36,
        'launch_flow': 'clearance',
    })
    m.const('initial_revenue_estimate', 600000, '$/Month',
            'Revenue at month 0 (starting value of perceived revenue).', A)

    m.group = 'Healthtech: the key lever, testing rigour and regulatory clearance'
    m.const('engineering_share', 0.5, 'dimensionless',
            'Share of staff in R&D (development plus verification and validation).', A)
    m.const('innovation_effort_share', 0.6, 'dimensionless',
            'Share of R&D effort on building new features; the rest does verification, '
            'validation and risk management. Innovation vs patient safety.', A,
            lever=(0.05, 0.95))
    m.aux('development_capacity',
          'effective_headcount * engineering_share * innovation_effort_share',
          'person-months/Month', 'Development effort.')
    m.aux('verification_capacity',
          'effective_headcount * engineering_share * (1 - innovation_effort_share)',
          'person-months/Month', 'Verification and validation effort.')
    m.const('development_time', 6, 'Months', 'Time to design and build a feature.', A)
    m.const('verification_effort_per_feature', 6, 'person-months/feature',
            'V&V effort a feature needs to be tested as thoroughly as the standard expects.', A)
    m.aux('testing_rigour',
          'verification_capacity / MAX(development_completion * verification_effort_per_feature, '
          '0.01)', 'dimensionless',
          'V&V effort per feature relative to the standard (1 = fully tested).')
    m.stock('features_awaiting_clearance', 'development_completion * 5.3', 'features',
            'Features submitted to the regulator (510(k)-style) and not yet cleared.',
            inflows=['development_completion'], outflows=['clearance'])
    m.const('base_clearance_time', 5.3, 'Months', 'Time from submission to clearance.',
            '510(k) ~160 calendar days on average FY2014-23 (natlawreview), ' + B)
    m.aux('effect_of_rigour_on_clearance_time', 'testing_rigour', 'dimensionless',
          'Thin test evidence draws additional-information requests and longer reviews.',
          gf=([0, 0.25, 0.5, 1, 2], [1.6, 1.35, 1.15, 1, 0.95]))
    m.aux('clearance_time', 'base_clearance_time * effect_of_rigour_on_clearance_time', 'Months',
          'Time to clearance.')
    m.flow('clearance', 'features_awaiting_clearance / clearance_time', 'features/Month',
           'Features cleared and launched.')
    m.const('submission_fee', 24335, '$/feature', 'Regulator fee per submission.',
            'FDA FY2025 510(k) user fee, ' + B)
    m.flow('regulatory_fees', 'development_completion * submission_fee', '$/Month',
           'Submission fees.')

    m.group = 'Healthtech: latent hazards, recalls, liability, trust'
    m.const('hazards_per_feature', 0.35, 'hazards/feature',
            'Safety-relevant defects a new feature carries before testing.', A)
    m.aux('hazard_escape_share', 'testing_rigour', 'dimensionless',
          'Share of hazards that testing misses.',
          gf=([0, 0.25, 0.5, 1, 2, 3], [1, 0.8, 0.55, 0.3, 0.15, 0.1]))
    m.flow('hazards_released', 'clearance * hazards_per_feature * hazard_escape_share',
           'hazards/Month', 'Hazards that reach patients\' bedside.')
    m.stock('latent_hazards', 4.5, 'hazards', 'Undiscovered hazards in fielded features.',
            inflows=['hazards_released'], outflows=['hazard_discovery'])
    m.const('time_to_discover', 18, 'Months', 'Average time until a latent hazard shows up in '
            'complaints, adverse-event reports or audits.', 'median 7.3 yr to first Class I '
            'recall for 510(k) devices (' + B + '), faster for software')
    m.flow('hazard_discovery', 'latent_hazards / time_to_discover', 'hazards/Month',
           'Hazards found in the field.')
    m.const('recall_share', 0.35, 'dimensionless',
            'Share of discovered hazards serious enough for a recall.', A)
    m.aux('recalls', 'hazard_discovery * recall_share', 'recalls/Month', 'Field recalls.')
    m.stock('cumulative_recalls', 0, 'recalls', 'Recalls since month 0 (patient-safety measure).',
            inflows=['recall_count'])
    m.flow('recall_count', 'recalls', 'recalls/Month', 'Counts recalls.')
    m.const('recall_cost', 150000, '$/recall',
            'Field action, corrective release, notifications per recall.', A)
    m.const('liability_per_hazard', 40000, '$/hazard',
            'Expected claims and legal cost per discovered hazard (adverse events).', A)
    m.flow('recall_and_liability_costs',
           'recalls * recall_cost + hazard_discovery * liability_per_hazard', '$/Month',
           'Recall and liability costs.')
    m.aux('recent_recall_rate', 'SMTH1(recalls, 6)', 'recalls/Month', 'Recalls in recent months.')
    m.aux('indicated_trust', 'recent_recall_rate / reference_recall_rate', 'dimensionless',
          'Trust clinicians would place in a vendor with this recall record.',
          gf=([0, 1, 2, 4, 8], [1.1, 1, 0.8, 0.5, 0.25]))
    m.const('reference_recall_rate', 0.08, 'recalls/Month',
            'Recall rate buyers regard as normal for the product class.', A)
    m.stock('clinical_trust', 1, 'dimensionless', 'Trust of clinicians and buyers (1 = normal).',
            inflows=['trust_change'])
    m.flow('trust_change', '(indicated_trust - clinical_trust) / trust_adjustment_time',
           '1/Month', 'Trust following the recall record (bi-flow).')
    m.const('trust_adjustment_time', 6, 'Months', 'Time for trust to adjust.', A)
    m.aux('features_withdrawn', 'recalls * 0.5', 'features/Month',
          'Recalled features taken off the market (half of recalls withdraw a feature).')
    m.attach('launched_features', outflow='features_withdrawn_flow')
    m.flow('features_withdrawn_flow', 'MIN(features_withdrawn, launched_features / 1)',
           'features/Month', 'Features withdrawn by recalls.')

    m.group = 'Healthtech: short-term vs long-term investment, customers, revenue'
    m.const('long_term_investment_share', 0.3, 'dimensionless',
            'Share of the discretionary budget on clinical evidence (studies, publications, '
            'outcomes data) rather than sales. Short-term goals vs long-term vision.', A,
            lever=(0, 0.8))
    m.aux('sales_spend', 'discretionary_budget * (1 - long_term_investment_share)', '$/Month',
          'Sales and marketing.')
    m.aux('evidence_spend', 'discretionary_budget * long_term_investment_share', '$/Month',
          'Clinical evidence programmes.')
    m.const('reference_evidence_spend', 27000, '$/Month',
            'Evidence spend that holds the evidence base steady.', A)
    m.aux('indicated_evidence', 'evidence_spend / reference_evidence_spend', 'dimensionless',
          'Evidence base the spend sustains.', gf=([0, 1, 2, 3], [0.5, 1, 1.35, 1.5]))
    m.stock('clinical_evidence', 1, 'dimensionless',
            'Published clinical evidence for the product (1 = par).',
            inflows=['evidence_change'])
    m.flow('evidence_change', '(indicated_evidence - clinical_evidence) / evidence_build_time',
           '1/Month', 'Evidence accumulating or ageing (bi-flow).')
    m.const('evidence_build_time', 18, 'Months', 'Time for studies to publish and age.', A)
    m.const('cost_per_clinic_won', 12000, '$/customer', 'Sales cost per clinic won.', A)
    m.aux('effect_of_evidence_on_sales', 'clinical_evidence', 'dimensionless',
          'Evidence wins committees.', gf=([0, 0.5, 1, 1.5], [0.4, 0.7, 1, 1.3]))
    m.aux('effect_of_product_on_sales', 'relative_product_strength', 'dimensionless',
          'Features win clinics.', gf=([0, 0.5, 1, 1.5, 2], [0.4, 0.75, 1, 1.25, 1.4]))
    m.aux('effect_of_trust_on_sales', 'clinical_trust', 'dimensionless',
          'Recalls scare buyers.', gf=([0, 0.5, 1, 1.1], [0.1, 0.45, 1, 1.05]))
    m.aux('marketing_reach',
          'sales_spend / cost_per_clinic_won * effect_of_evidence_on_sales * '
          'effect_of_product_on_sales * effect_of_trust_on_sales', 'customers/Month',
          'Clinics sales would win.')
    m.aux('word_of_mouth_multiplier', 'effect_of_trust_on_sales * effect_of_product_on_sales',
          'dimensionless', 'Peer recommendation.')
    m.const('market_size', 5000, 'customers', 'Clinics in the addressable segment.', A)
    m.aux('effect_of_trust_on_churn', 'clinical_trust', 'dimensionless',
          'Clinics drop a vendor they no longer trust.',
          gf=([0, 0.5, 1, 1.1], [4, 2.2, 1, 0.95]))
    m.aux('effect_of_product_on_churn', 'relative_product_strength', 'dimensionless',
          'Clinics switch to better products.',
          gf=([0, 0.5, 1, 1.5, 2], [1.5, 1.2, 1, 0.9, 0.85]))
    m.aux('churn_multiplier', 'effect_of_trust_on_churn * effect_of_product_on_churn',
          'dimensionless', 'Sector effects on churn.')
    m.const('subscription_price', 2000, '$/customer/Month', 'Subscription per clinic.', A)
    m.aux('price_realisation', 'clinical_evidence', 'dimensionless',
          'Evidence supports price (and reimbursement).', gf=([0, 1, 2], [0.85, 1, 1.1]))
    m.aux('revenue', 'customers * subscription_price * price_realisation', '$/Month', 'Revenue.')
    m.const('cost_to_serve', 250, '$/customer/Month', 'Devices, hosting, consumables.', A)
    m.aux('variable_costs', 'customers * cost_to_serve', '$/Month', 'Cost to serve clinics.')
    m.const('clinics_per_person', 24, 'customers/person',
            'Clinics one support/success person serves well.', A)
    m.aux('service_quality',
          'effective_headcount * (1 - engineering_share) * clinics_per_person / '
          'MAX(customers, 1)', 'dimensionless', 'Support capacity over need.')
    m.aux('required_headcount',
          'customers / clinics_per_person / (1 - engineering_share) / target_utilisation',
          'people', 'Staff the installed base needs.')
    m.const('target_utilisation', 0.95, 'dimensionless', 'Utilisation staffing aims for.', A)
    cash_outflow(m, 'regulatory_fees')
    cash_outflow(m, 'recall_and_liability_costs')
    finish_core(m)
    return m

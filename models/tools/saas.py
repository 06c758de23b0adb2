"""SaaS: product innovation vs customer support."""

from core import add_core, finish_core
from sdlib import Model

B = 'smb-benchmarks.md'
A = 'modelling assumption (no benchmark in smb-benchmarks.md)'


def build():
    m = Model('saas', 'tightrope template: SMB SaaS',
              'A subscription software SMB: 500 accounts, $300K MRR.')
    add_core(m, {
        'initial_cash': 450000, 'initial_cash_src': '1.5 months of costs; ' + B + ' cash buffer',
        'initial_debt': 350000, 'revenue_init': 'mrr',
        'fixed_costs': 20000, 'fixed_costs_src': A,
        'salary': 6500, 'salary_src': '$78K a year, blended; ' + A,
        'growth_investment_share': 0.25,
        'growth_investment_share_src': 'S&M spend 20-40 % of revenue at SMB SaaS; KBCM 2019 '
                                       '($1.14 S&M per $1 new ARR), ' + B,
        'payroll_budget_ratio': 0.55, 'payroll_src': A,
        'initial_headcount': 18,
        'initial_customers': 500,
        'referral_rate': 0.02, 'referral_src': 'calibrated to ~30 %/yr organic growth '
                                                '(KBCM median organic ARR growth 36 %), ' + B,
        'base_churn_rate': 0.03, 'churn_src': 'SMB logo churn 3-5 %/month "good" '
                                              '(statsforstartups; Recurly B2B 4.91 %), ' + B,
        'initial_ideas': 40, 'initial_wip': 14, 'initial_features': 80,
        'ideas_per_person': 0.4, 'effort_per_feature': 3,
    })

    m.group = 'SaaS: subscription revenue (MRR), expansion, contraction'
    m.const('initial_mrr_per_account', 600, '$/Month/customer', 'Average MRR per account at month 0.', A)
    m.stock('mrr', 'initial_customers * initial_mrr_per_account', '$/Month', 'Monthly recurring revenue.',
            inflows=['new_mrr', 'expansion_mrr'], outflows=['churned_mrr', 'contraction_mrr'])
    m.flow('new_mrr', 'customer_acquisition * starting_mrr_per_account', '$/Month/Month',
           'MRR added by new accounts.')
    m.flow('expansion_mrr', 'mrr * expansion_rate', '$/Month/Month',
           'Upgrades, seats and add-ons bought by existing accounts.')
    m.flow('churned_mrr', 'mrr * churn_rate', '$/Month/Month', 'MRR lost with churned accounts.')
    m.flow('contraction_mrr', 'mrr * contraction_rate', '$/Month/Month', 'Downgrades.')
    m.const('starting_mrr_per_account', 450, '$/Month/customer',
            'MRR of a new account (ACV about $5.4K, an SMB plan).',
            'SMB ACV < $25K (ChartMogul via optif.ai), ' + B)
    m.const('base_expansion_rate', 0.03, '1/Month',
            'Monthly expansion at par product strength and no saturation.',
            'calibrated so NRR lands near the SMB range 85-97 %/yr (ChartMogul, gtmstack), ' + B)
    m.const('contraction_rate', 0.005, '1/Month', 'Monthly downgrade rate.', A)
    m.const('mrr_per_account_ceiling', 3000, '$/Month/customer',
            'Spend at which an SMB account has bought everything it can use.', A)
    m.aux('mrr_per_account', 'mrr / MAX(customers, 1)', '$/Month/customer',
          'Average revenue per account (ARPA).')
    m.aux('effect_of_product_on_expansion', 'relative_product_strength', 'dimensionless',
          'New features give accounts reasons to upgrade.',
          gf=([0, 0.5, 1, 1.5, 2], [0.1, 0.55, 1, 1.3, 1.45]))
    m.aux('expansion_rate',
          'base_expansion_rate * effect_of_product_on_expansion * '
          '(1 + cross_sell_per_product_line * new_product_lines) * '
          'MAX(0, 1 - mrr_per_account / mrr_per_account_ceiling)', '1/Month',
          'Monthly expansion rate.')
    m.aux('revenue', 'mrr', '$/Month', 'Revenue = MRR (annual plans billed monthly).')
    m.aux('net_revenue_retention',
          '(1 + expansion_rate - contraction_rate - churn_rate) ^ 12', 'dimensionless',
          'Annualised NRR implied by this month\'s rates.')
    m.const('hosting_cost_share', 0.12, 'dimensionless',
            'Hosting, third-party services and payment fees per $ of MRR.',
            'SaaS gross margin 72-78 % incl. support staff (KeyBanc/OpenView), ' + B)
    m.aux('variable_costs', 'hosting_cost_share * mrr', '$/Month', 'Cost of serving the MRR.')

    m.group = 'SaaS: the key lever and support'
    m.const('feature_effort_share', 0.6, 'dimensionless',
            'Share of product & service staff time on building features (the rest answers '
            'customers). Product innovation vs customer support.', A, lever=(0.05, 0.95))
    m.const('adaptive_policy', 0, 'dimensionless',
            'Policy switch: 0 = the fixed share above; 1 = a feedback rule that moves effort to '
            'support while churn is above churn_target and back to features when it is below '
            '(compare static and adaptive policies under the same scenarios).', A)
    m.const('churn_target', 0.03, '1/Month', 'Churn the adaptive policy steers toward.',
            'SMB logo churn 3-5 %/month "good", ' + B)
    m.const('policy_gain', 0.6, 'dimensionless',
            'Share of effort moved per unit of relative churn gap (adaptive policy).', A)
    m.aux('perceived_churn', 'SMTH1(churn_rate, 2, churn_target)', '1/Month',
          'Churn as management sees it (two-month average, starting at the target).')
    m.aux('effective_feature_share',
          'MIN(0.95, MAX(0.05, feature_effort_share - adaptive_policy * policy_gain * '
          '(perceived_churn - churn_target) / churn_target))', 'dimensionless',
          'Share of time actually spent on features: the lever, or the adaptive rule.')
    m.aux('support_capacity', 'effective_headcount * (1 - effective_feature_share) * tickets_per_agent',
          'tickets/Month', 'Tickets the support side can resolve per month.')
    m.const('tickets_per_agent', 75, 'tickets/person/Month',
            'Tickets one full-time agent resolves per month.', A)
    m.const('tickets_per_customer', 0.8, 'tickets/customer/Month',
            'Tickets an account raises per month with a stable product.', A)
    m.const('tickets_per_new_feature', 0.05, 'tickets/customer/feature',
            'Extra tickets per account in the months after each launch (questions, bugs).', A)
    m.aux('recent_launch_rate', 'SMTH1(development_completion, 3)', 'features/Month',
          'Launch rate over the last few months.')
    m.flow('ticket_arrivals',
           'customers * (tickets_per_customer + tickets_per_new_feature * recent_launch_rate)',
           'tickets/Month', 'Support requests raised.')
    m.stock('support_backlog', 125, 'tickets', 'Open support tickets.',
            inflows=['ticket_arrivals'], outflows=['tickets_resolved', 'ticket_abandonment'])
    m.const('minimum_resolution_time', 0.25, 'Months', 'Fastest a ticket is resolved.', A)
    m.flow('tickets_resolved', 'MIN(support_backlog / minimum_resolution_time, support_capacity)',
           'tickets/Month', 'Tickets closed.')
    m.flow('ticket_abandonment',
           'MAX(0, support_backlog - tickets_resolved * minimum_resolution_time) / ticket_patience',
           'tickets/Month', 'Tickets customers give up on (those not being resolved).')
    m.const('ticket_patience', 3, 'Months', 'Time before an unanswered customer gives up.', A)
    m.aux('response_time', 'support_backlog / MAX(tickets_resolved + ticket_abandonment, 0.01)',
          'Months', 'Average time a ticket stays open (Little\'s law).')
    m.const('target_response_time', 0.3, 'Months', 'Resolution time customers accept.', A)
    m.aux('service_quality', 'target_response_time / MAX(response_time, 0.01)', 'dimensionless',
          'Support quality (1 = at target; >1 faster than target).')

    m.group = 'SaaS: product, exploration and the market'
    m.const('exploration_share', 0.15, 'dimensionless',
            'Share of development capacity on new product lines for new segments (exploration) '
            'rather than features for the current product (exploitation).', A, lever=(0, 0.6))
    m.aux('development_capacity',
          'effective_headcount * effective_feature_share * (1 - exploration_share)',
          'person-months/Month', 'Effort on features for the current product.')
    m.const('development_time', 4, 'Months', 'Time to build and ship a feature.', A)
    m.aux('exploration_capacity', 'effective_headcount * effective_feature_share * exploration_share',
          'person-months/Month', 'Effort on exploratory new products.')
    m.stock('exploration_projects', 1, 'projects', 'Exploratory products in the works.',
            inflows=['exploration_start'], outflows=['exploration_completion'])
    m.const('effort_per_exploration', 30, 'person-months/project',
            'Effort per exploratory product.', A)
    m.flow('exploration_start', 'exploration_capacity / effort_per_exploration',
           'projects/Month', 'Exploratory products started.')
    m.const('exploration_time', 12, 'Months', 'Time to take an exploratory product to market.', A)
    m.flow('exploration_completion', 'exploration_projects / exploration_time', 'projects/Month',
           'Exploratory products finished.')
    m.const('exploration_hit_rate', 0.3, 'dimensionless',
            'Share of exploratory products that find a market.', A)
    m.const('market_per_hit', 1500, 'customers/project',
            'Accounts a successful new product adds to the addressable market.', A)
    m.stock('new_product_lines', 0, 'products',
            'Successful exploratory products now sold (cross-sold to existing accounts).',
            inflows=['product_line_launch'])
    m.flow('product_line_launch', 'exploration_completion * exploration_hit_rate',
           'products/Month', 'Exploratory products that found a market.')
    m.const('cross_sell_per_product_line', 0.2, 'dimensionless',
            'Extra expansion per new product line (cross-sell to existing accounts).', A)
    m.stock('market_extension', 0, 'customers',
            'Addressable accounts opened by exploration.', inflows=['market_opening'])
    m.flow('market_opening', 'exploration_completion * exploration_hit_rate * market_per_hit',
           'customers/Month', 'Market opened by successful exploration.')
    m.const('base_market_size', 6000, 'customers',
            'SMB accounts in the niche the product serves today.', A)
    m.aux('market_size', 'base_market_size + market_extension', 'customers',
          'Addressable accounts.')
    m.const('customer_acquisition_cost', 7000, '$/customer',
            'Marketing and sales spend per account won at full potential.',
            'LTV/CAC >= 3 and CAC payback 12-20 months (Skok; OpenView/KBCM), ' + B)
    m.aux('effect_of_product_on_conversion', 'relative_product_strength', 'dimensionless',
          'Trials convert better when the product leads.',
          gf=([0, 0.5, 1, 1.5, 2], [0.3, 0.7, 1, 1.15, 1.25]))
    m.aux('marketing_reach',
          'discretionary_budget / customer_acquisition_cost * effect_of_product_on_conversion',
          'customers/Month', 'Accounts marketing would win at full potential.')
    m.aux('effect_of_product_on_word_of_mouth', 'relative_product_strength', 'dimensionless',
          'A leading product gets recommended.',
          gf=([0, 0.5, 1, 1.5, 2], [0.2, 0.65, 1, 1.2, 1.3]))
    m.aux('effect_of_service_on_word_of_mouth', 'service_quality', 'dimensionless',
          'Customers with unanswered tickets do not recommend.',
          gf=([0, 0.5, 1, 1.5], [0.2, 0.6, 1, 1.1]))
    m.aux('word_of_mouth_multiplier',
          'effect_of_product_on_word_of_mouth * effect_of_service_on_word_of_mouth',
          'dimensionless', 'How recommendable the product and service are.')
    m.aux('effect_of_product_on_churn', 'relative_product_strength', 'dimensionless',
          'Accounts leave a product that falls behind.',
          gf=([0, 0.5, 1, 1.5, 2], [1.6, 1.25, 1, 0.9, 0.85]))
    m.aux('churn_multiplier', 'effect_of_product_on_churn', 'dimensionless',
          'Sector effects on churn.')
    m.aux('required_headcount',
          'ticket_arrivals / tickets_per_agent / MAX(1 - effective_feature_share, 0.05) / '
          'target_utilisation', 'people',
          'Staff needed so that the support share of their time covers the tickets.')
    m.const('target_utilisation', 0.9, 'dimensionless', 'Support utilisation staffing aims for.', A)
    finish_core(m)
    return m
